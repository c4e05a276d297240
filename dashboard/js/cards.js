// Run-state cards: state, decisions, agents/hosts, errors, messages, cross-site
// messages, tool calls, tokens, model cost (the run's, and each site's beneath it).

import { el, num, replace } from "./dom.js";
import { costText } from "./metrics.js";

function card(id, label, value, extra, detail) {
  return el(
    "div",
    { class: `card ${extra || ""}`, "data-card": id },
    el("div", { class: "card-value", text: value }),
    el("div", { class: "card-label", text: label }),
    detail ? el("div", { class: "card-detail", text: detail }) : null,
  );
}

// Each site's cost under the run's, for a few sites; with more, the header's site badges
// carry them.
const COST_DETAIL_SITES = 4;

function siteCosts(metrics) {
  if (metrics.siteCosts.size > COST_DETAIL_SITES) return null;
  return [...metrics.siteCosts.entries()].sort(([a], [b]) => a.localeCompare(b))
    .map(([site, cost]) => `${site} ${costText(cost)}`).join(" · ");
}

function costLabel(cost) {
  return cost.unpriced ? `model cost, + ${num(cost.unpriced)} unpriced calls` : "model cost";
}

/** Render the cards for the metrics at the current replay position. */
export function renderCards(metrics, topology) {
  const agents = metrics.agents.size || topology.agents().length;
  replace(
    document.getElementById("cards"),
    card("state", "run state", metrics.state, `state-${metrics.state}`),
    card("decisions", "decisions", num(metrics.decisions)),
    card("agents", "agents / hosts", `${agents} / ${metrics.hosts.size}`),
    card("errors", "errors", num(metrics.errors), metrics.errors ? "bad" : ""),
    card("messages", "messages", num(metrics.messages)),
    card(
      "cross",
      topology.federated ? "cross-site messages" : "cross-node messages",
      num(metrics.crossSite),
    ),
    card("tools", "tool calls", num(metrics.toolCalls)),
    card("tokens", "tokens in / out", `${num(metrics.tokensIn)} / ${num(metrics.tokensOut)}`),
    card("cost", costLabel(metrics.cost), costText({ ...metrics.cost, unpriced: 0 }), "",
      siteCosts(metrics)),
  );
}
