// The timeline: events up to the replay position, newest first, filtered by site, agent
// and kind, in a virtualized list (only the rows in view are in the page). While the page
// holds the whole run, filters run here; once the run is bigger than the page's window, a
// filter asks the server (/api/timeline) and "older" pages back through the whole run.
// Clicking a row shows it in the detail panel.

import { getJSON } from "./api.js";
import { el, replace } from "./dom.js";

const ROW_H = 22; // px, the fixed height of a row (css: #timeline .row)
const OVERSCAN = 10;
const PAGE = 500;
const SERVER_NOTE = "filtered on the server, over the whole run";

function summary(e) {
  switch (e.kind) {
    case "message_sent": return `→ ${e.recipient}: ${e.tldr || e.message_kind}`;
    case "message_received": return `← ${e.sender}: ${e.tldr || e.message_kind}`;
    case "decision": return `round ${e.round}: ${e.actions.join(", ")}`;
    case "llm_call": return `${e.model} ${e.tokens_in}/${e.tokens_out} tokens`;
    case "tool_call": case "tool_result": return e.tool;
    case "result_submitted": return e.result;
    case "agent_failed": return e.error;
    case "agent_finished": return `${e.reason} after ${e.decisions} decisions`;
    case "note": return e.message;
    case "site_finished": return e.status;
    case "peers_waiting": case "peers_up": return e.peers.join(", ");
    default: return "";
  }
}

export class Timeline {
  /** `onSelect(event)` gets a clicked row's event. */
  constructor(onSelect) {
    this.onSelect = onSelect;
    this.filters = {};
    this.rows = []; // the events listed, newest first
    this.server = null; // {key, events, before, loading} while the server filters
    this.list = document.getElementById("timeline");
    this.list.addEventListener("scroll", () => this.paint());
    const filterBox = document.getElementById("filters");
    for (const field of ["site", "agent", "kind"]) {
      const select = el("select", { id: `filter-${field}`, "aria-label": `filter by ${field}`,
        onchange: () => { this.filters[field] = select.value; this.onFilter?.(); } });
      this.filters[field] = "";
      this[`${field}Select`] = select;
      filterBox.append(el("label", {}, `${field} `, select));
    }
    this.older = el("button", { id: "timeline-older", hidden: true, text: "older events",
      onclick: () => this.fetchPage(true) });
    this.note = el("span", { id: "timeline-note", class: "hint" });
    filterBox.append(this.older, this.note);
  }

  updateOptions(values) {
    for (const field of ["site", "agent", "kind"]) {
      const select = this[`${field}Select`];
      const sorted = [...values[field]].sort();
      if (select.options.length === sorted.length + 1) continue;
      replace(select, el("option", { value: "", text: "all" }),
        sorted.map((v) => el("option", { value: v, text: v, selected: v === this.filters[field] })));
    }
  }

  filtered() {
    return Boolean(this.filters.site || this.filters.agent || this.filters.kind);
  }

  /**
   * Show events[0:upto] (the window); `options` lists the sites, agents and kinds to
   * offer; `windowed` says the run is bigger than the window (filters go to the server).
   */
  render(events, upto, options, windowed) {
    this.updateOptions(options);
    if (windowed && this.filtered()) {
      const key = JSON.stringify(this.filters);
      if (!this.server || this.server.key !== key) {
        this.server = { key, events: [], before: null, loading: false };
        this.fetchPage(false);
      }
      this.rows = this.server.events;
      this.note.textContent = this.server.loading ? "asking the server…" : SERVER_NOTE;
    } else {
      this.server = null;
      const { site, agent, kind } = this.filters;
      const rows = [];
      for (let i = upto - 1; i >= 0; i -= 1) {
        const e = events[i];
        if ((site && e.site !== site) || (agent && e.agent !== agent) || (kind && e.kind !== kind)) continue;
        rows.push(e);
      }
      this.rows = rows;
      this.note.textContent = windowed ? `the newest ${events.length.toLocaleString("en-US")} events` : "";
    }
    this.older.hidden = !(this.server && this.server.before);
    this.paint();
  }

  /** Refresh the server's filtered view (new events arrived). */
  refreshServer() {
    if (this.server && !this.server.loading) {
      this.server.before = null;
      this.fetchPage(false);
    }
  }

  async fetchPage(older) {
    const view = this.server;
    if (!view || view.loading) return;
    const params = new URLSearchParams({ limit: String(PAGE) });
    for (const [field, value] of Object.entries(this.filters)) if (value) params.set(field, value);
    if (older && view.before) params.set("before", view.before);
    view.loading = true;
    try {
      const page = await getJSON(`/api/timeline?${params}`);
      if (this.server !== view) return; // the filters changed meanwhile
      view.events = older ? view.events.concat(page.events) : page.events;
      view.before = page.before;
      this.rows = view.events;
      this.note.textContent = SERVER_NOTE;
      this.older.hidden = !view.before;
      this.paint();
    } finally {
      view.loading = false;
    }
  }

  /** Draw only the rows in view; the list's height stands for all of them. */
  paint() {
    const total = this.rows.length;
    const first = Math.max(0, Math.floor(this.list.scrollTop / ROW_H) - OVERSCAN);
    const count = Math.ceil((this.list.clientHeight || 420) / ROW_H) + 2 * OVERSCAN;
    const items = [];
    for (let i = first; i < Math.min(total, first + count); i += 1) {
      const e = this.rows[i];
      items.push(el("li", { class: `row kind-${e.kind}`, "data-seq": e.seq,
        style: `top:${i * ROW_H}px`, onclick: () => this.onSelect(e) },
        el("span", { class: "time", text: e.timestamp.slice(11, 23) }),
        el("span", { class: "clock", text: `#${e.clock}` }),
        el("span", { class: "site-tag", "data-site": e.site, text: e.site }),
        el("span", { class: "agent", text: e.agent }),
        el("span", { class: "kind", text: e.kind }),
        el("span", { class: "summary", text: summary(e) })));
    }
    const spacer = el("div", { class: "spacer", "aria-hidden": "true", style: `height:${total * ROW_H}px` });
    replace(this.list, spacer, items);
  }
}
