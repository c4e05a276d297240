// The replay control: a slider over the event history, play/pause, speed, and
// follow-latest (on by default: new events move the position to the end).

import { el, replace } from "./dom.js";

export class Replay {
  /** `onChange(position)` is called whenever the position moves. */
  constructor(container, onChange) {
    this.onChange = onChange;
    this.position = 0;
    this.length = 0;
    this.follow = true;
    this.timer = null;
    this.slider = el("input", {
      type: "range", min: 0, max: 0, value: 0, id: "replay-slider", "aria-label": "position",
      oninput: () => this.seek(Number(this.slider.value), false),
    });
    this.play = el("button", { id: "replay-play", text: "▶ play", onclick: () => this.toggle() });
    this.speed = el("select", { id: "replay-speed", "aria-label": "speed" },
      ["1", "4", "16", "64"].map((s) => el("option", { value: s, text: `${s} events/s` })));
    this.followBox = el("input", {
      type: "checkbox", id: "replay-follow", checked: true,
      onchange: () => this.setFollow(this.followBox.checked),
    });
    this.label = el("span", { id: "replay-position" });
    replace(container, this.play, this.slider, this.speed,
      el("label", {}, this.followBox, " follow latest"), this.label);
  }

  /** The history grew to `length` events. */
  setLength(length) {
    this.length = length;
    this.slider.max = String(length);
    if (this.follow) this.position = length;
    this.sync();
  }

  seek(position, keepFollow) {
    this.position = Math.max(0, Math.min(position, this.length));
    if (!keepFollow) this.setFollow(this.position === this.length && this.follow);
    this.sync();
    this.onChange(this.position);
  }

  setFollow(on) {
    this.follow = on;
    this.followBox.checked = on;
    if (on) this.seek(this.length, true);
  }

  toggle() {
    if (this.timer) return this.stop();
    this.setFollow(false);
    if (this.position >= this.length) this.seek(0, true);
    this.play.textContent = "⏸ pause";
    this.timer = setInterval(() => {
      if (this.position >= this.length) return this.stop();
      this.seek(this.position + 1, true);
    }, 1000 / Number(this.speed.value));
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.play.textContent = "▶ play";
  }

  sync() {
    this.slider.value = String(this.position);
    this.label.textContent = `${this.position} / ${this.length}`;
  }
}
