// The detail panel: a message's route (cross-site / same-site, from and to site) and
// content, or any other event's fields.

import { el, replace } from "./dom.js";
import { routeOf } from "./topology.js";

function rows(pairs) {
  return el("table", { class: "detail-table" },
    pairs.map(([k, v]) => el("tr", {}, el("th", { text: k }), el("td", { text: String(v ?? "—") }))));
}

/** Show one event in the detail panel. */
export function renderDetail(event, topology) {
  const panel = document.getElementById("detail");
  if (event.kind === "message_sent" || event.kind === "message_received") {
    const route = routeOf(topology, event);
    replace(panel,
      el("h3", { text: `${event.sender} → ${event.recipient}` }),
      el("span", { class: `route ${route.cross ? "cross" : "local"}`, id: "detail-route", text: route.label }),
      rows([
        ["Route", route.label],
        [route.fromLabel, route.from],
        [route.toLabel, route.to],
        ["Kind", event.message_kind],
        ["Round", event.round],
        ["Lamport clock", event.clock],
        ["Time", event.timestamp],
        ["Summary", event.tldr],
      ]),
      el("pre", { class: "content", text: event.content || "" }));
    return;
  }
  const skip = new Set(["seq", "schema_version", "event_id", "run_id"]);
  replace(panel,
    el("h3", { text: `${event.kind} · ${event.agent}@${event.site}` }),
    rows(Object.entries(event).filter(([k]) => !skip.has(k))
      .map(([k, v]) => [k, typeof v === "object" ? JSON.stringify(v) : v])));
}
