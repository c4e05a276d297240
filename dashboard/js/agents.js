// The per-agent table: site, host, state, decisions, messages, tool calls, tokens, cost.

// The cost is what the agent's model calls cost when they were made (their cost_usd).

import { el, num, replace } from "./dom.js";
import { costText } from "./metrics.js";

// More agents than this: the busiest are listed, and a last row says how many are not.
const MAX_ROWS = 200;

function activity(a) {
  return a ? (a.events ?? 0) + a.sent + a.received + a.decisions : -1;
}

function listed(names, metrics) {
  if (names.length <= MAX_ROWS) return names.sort();
  return names.sort((x, y) => activity(metrics.agents.get(y)) - activity(metrics.agents.get(x))
    || (x < y ? -1 : 1)).slice(0, MAX_ROWS);
}

let shown = ""; // what the table shows now, to leave the page alone when nothing changed

/** Render one row per agent known from snapshots or events (the busiest, in big runs). */
export function renderAgents(metrics, topology, status) {
  const snapshot = new Map((status.status?.agents || []).map((a) => [a.agent, a]));
  const all = [...new Set([...topology.agents(), ...metrics.agents.keys()])];
  const names = listed(all, metrics);
  const header = ["agent", "site", "host", "state", "decisions", "sent", "received",
    "tool calls", "tokens in", "tokens out", "cost", "last error / result"];
  const rows = names.map((name) => {
    const s = snapshot.get(name) || {};
    const a = metrics.agents.get(name) || { state: s.state ?? "starting" };
    const state = a.state === "starting" && s.state ? s.state : a.state;
    return [name, state, a.costUsd ?? "", [name, topology.siteOf(name),
      topology.hostOf(name) ?? s.host, state, num(a.decisions), num(a.sent), num(a.received),
      num(a.toolCalls), num(a.tokensIn ?? s.tokens_in), num(a.tokensOut ?? s.tokens_out),
      costText(a), a.lastError || a.result || "—"].map((v) => String(v ?? "—"))];
  });
  const more = all.length - names.length;
  const signature = JSON.stringify([rows, more]);
  if (signature === shown) return;
  shown = signature;
  const body = rows.map(([name, state, cost, cells]) =>
    el("tr", { "data-agent": name, "data-cost": cost, class: `state-${state}` },
      cells.map((text) => el("td", { text }))));
  if (more > 0) {
    body.push(el("tr", { class: "more" }, el("td", {
      colspan: header.length, text: `… and ${num(more)} more agents (the ${MAX_ROWS} busiest are listed)`,
    })));
  }
  replace(document.getElementById("agents"),
    el("table", { class: "agents" },
      el("thead", {}, el("tr", {}, header.map((h) => el("th", { text: h })))),
      el("tbody", {}, body)));
}
