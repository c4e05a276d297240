// The timeline: events up to the replay position, newest first, filtered by site,
// agent and kind. Clicking a row shows it in the detail panel.

import { el, replace } from "./dom.js";

const MAX_ROWS = 500;

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
    const filterBox = document.getElementById("filters");
    for (const field of ["site", "agent", "kind"]) {
      const select = el("select", { id: `filter-${field}`, "aria-label": `filter by ${field}`,
        onchange: () => { this.filters[field] = select.value; this.onFilter?.(); } });
      this.filters[field] = "";
      this[`${field}Select`] = select;
      filterBox.append(el("label", {}, `${field} `, select));
    }
  }

  updateOptions(events) {
    for (const field of ["site", "agent", "kind"]) {
      const select = this[`${field}Select`];
      const values = [...new Set(events.map((e) => e[field]))].sort();
      if (select.options.length === values.length + 1) continue;
      replace(select, el("option", { value: "", text: "all" }),
        values.map((v) => el("option", { value: v, text: v, selected: v === this.filters[field] })));
    }
  }

  render(events, upto) {
    this.updateOptions(events);
    const { site, agent, kind } = this.filters;
    const rows = [];
    for (let i = upto - 1; i >= 0 && rows.length < MAX_ROWS; i -= 1) {
      const e = events[i];
      if ((site && e.site !== site) || (agent && e.agent !== agent) || (kind && e.kind !== kind)) continue;
      rows.push(el("li", { class: `row kind-${e.kind}`, "data-seq": e.seq, onclick: () => this.onSelect(e) },
        el("span", { class: "time", text: e.timestamp.slice(11, 23) }),
        el("span", { class: "clock", text: `#${e.clock}` }),
        el("span", { class: "site-tag", "data-site": e.site, text: e.site }),
        el("span", { class: "agent", text: e.agent }),
        el("span", { class: "kind", text: e.kind }),
        el("span", { class: "summary", text: summary(e) })));
    }
    replace(document.getElementById("timeline"), rows);
  }
}
