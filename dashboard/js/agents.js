// The per-agent table: site, host, state, decisions, messages, tool calls, tokens, cost.

// The cost is what the agent's model calls cost when they were made (their cost_usd).

import { el, num, replace } from "./dom.js";
import { costText } from "./metrics.js";

/** Render one row per agent known from snapshots or events. */
export function renderAgents(metrics, topology, status) {
  const snapshot = new Map((status.status?.agents || []).map((a) => [a.agent, a]));
  const names = new Set([...topology.agents(), ...metrics.agents.keys()]);
  const header = ["agent", "site", "host", "state", "decisions", "sent", "received",
    "tool calls", "tokens in", "tokens out", "cost", "last error / result"];
  const body = [...names].sort().map((name) => {
    const a = metrics.agents.get(name) || { state: snapshot.get(name)?.state ?? "starting" };
    const s = snapshot.get(name) || {};
    return el("tr", { "data-agent": name, "data-cost": a.costUsd ?? "", class: `state-${a.state}` },
      [name, topology.siteOf(name), topology.hostOf(name) ?? s.host, a.state,
        num(a.decisions), num(a.sent), num(a.received), num(a.toolCalls),
        num(a.tokensIn ?? s.tokens_in), num(a.tokensOut ?? s.tokens_out),
        costText(a), a.lastError || a.result || "—",
      ].map((v) => el("td", { text: String(v ?? "—") })));
  });
  replace(document.getElementById("agents"),
    el("table", { class: "agents" },
      el("thead", {}, el("tr", {}, header.map((h) => el("th", { text: h })))),
      el("tbody", {}, body)));
}
