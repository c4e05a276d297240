// The per-agent table: site, host, state, decisions, messages, tool calls, tokens, cost.

import { el, num, replace } from "./dom.js";

// Prices (USD per million tokens) come from the URL: ?price_in=0.25&price_out=2
const params = new URLSearchParams(window.location.search);
const PRICE_IN = Number(params.get("price_in") || NaN);
const PRICE_OUT = Number(params.get("price_out") || NaN);

function cost(a) {
  if (Number.isNaN(PRICE_IN) || Number.isNaN(PRICE_OUT)) return "—";
  return `$${((a.tokensIn * PRICE_IN + a.tokensOut * PRICE_OUT) / 1e6).toFixed(4)}`;
}

/** Render one row per agent known from snapshots or events. */
export function renderAgents(metrics, topology, status) {
  const snapshot = new Map((status.status?.agents || []).map((a) => [a.agent, a]));
  const names = new Set([...topology.agents(), ...metrics.agents.keys()]);
  const header = ["agent", "site", "host", "state", "decisions", "sent", "received",
    "tool calls", "tokens in", "tokens out", "cost", "last error / result"];
  const body = [...names].sort().map((name) => {
    const a = metrics.agents.get(name) || { state: snapshot.get(name)?.state ?? "starting" };
    const s = snapshot.get(name) || {};
    return el("tr", { "data-agent": name, class: `state-${a.state}` },
      [name, topology.siteOf(name), topology.hostOf(name) ?? s.host, a.state,
        num(a.decisions), num(a.sent), num(a.received), num(a.toolCalls),
        num(a.tokensIn ?? s.tokens_in), num(a.tokensOut ?? s.tokens_out),
        a.tokensIn === undefined ? "—" : cost(a), a.lastError || a.result || "—",
      ].map((v) => el("td", { text: String(v ?? "—") })));
  });
  replace(document.getElementById("agents"),
    el("table", { class: "agents" },
      el("thead", {}, el("tr", {}, header.map((h) => el("th", { text: h })))),
      el("tbody", {}, body)));
}
