// Run-level numbers for the state cards and the per-agent table, computed from the
// events up to the replay position (so replay shows the run as it was then). Cost is the
// sum of each llm_call's cost_usd, priced when the call was made (chia.llm.prices); a
// call with no price is counted as unpriced, never as free.

import { num } from "./dom.js";
import { SITE_WRITER, routeOf } from "./topology.js";

function blankAgent(name) {
  return {
    agent: name, state: "starting", decisions: 0, sent: 0, received: 0,
    toolCalls: 0, tokensIn: 0, tokensOut: 0, errors: 0, lastError: null, result: null,
    ...blankCost(),
  };
}

function blankCost() {
  return { modelCalls: 0, costUsd: 0, unpriced: 0 };
}

function addCost(into, e) {
  into.modelCalls += 1;
  if (typeof e.cost_usd === "number") into.costUsd += e.cost_usd;
  else if (e.success !== false) into.unpriced += 1;
}

const STATE_BY_KIND = {
  agent_registered: "registered",
  peers_waiting: "waiting_for_peers",
  agent_running: "running",
  agent_finished: "finished",
  agent_failed: "failed",
};

/** `$0.002400`, plus the unpriced calls; `—` before any model call. */
export function costText(cost) {
  if (!cost || !cost.modelCalls) return "—";
  const text = `$${cost.costUsd.toFixed(6)}`;
  return cost.unpriced ? `${text} + ${num(cost.unpriced)} unpriced` : text;
}

/** Fold events[0:upto] into run metrics and per-agent counters. */
export function computeMetrics(events, upto, topology) {
  const m = {
    state: "waiting", decisions: 0, errors: 0, messages: 0, crossSite: 0, toolCalls: 0,
    tokensIn: 0, tokensOut: 0, results: [], hosts: new Set(), agents: new Map(),
    sitesFinished: new Map(), lastTimestamp: null, cost: blankCost(), siteCosts: new Map(),
  };
  const siteCost = (site) => {
    if (!m.siteCosts.has(site)) m.siteCosts.set(site, blankCost());
    return m.siteCosts.get(site);
  };
  const agent = (name) => {
    if (!m.agents.has(name)) m.agents.set(name, blankAgent(name));
    return m.agents.get(name);
  };
  for (let i = 0; i < upto; i += 1) {
    const e = events[i];
    m.lastTimestamp = e.timestamp;
    const a = e.agent === SITE_WRITER ? null : agent(e.agent);
    if (a && STATE_BY_KIND[e.kind]) a.state = STATE_BY_KIND[e.kind];
    switch (e.kind) {
      case "site_started": m.hosts.add(e.host); break;
      case "agent_registered": m.hosts.add(e.host); break;
      case "decision": m.decisions += 1; a.decisions += 1; break;
      case "message_sent":
        m.messages += 1; a.sent += 1;
        if (routeOf(topology, e).cross) m.crossSite += 1;
        break;
      case "message_received": a.received += 1; break;
      case "tool_call": m.toolCalls += 1; a.toolCalls += 1; break;
      case "llm_call":
        m.tokensIn += e.tokens_in; m.tokensOut += e.tokens_out;
        a.tokensIn += e.tokens_in; a.tokensOut += e.tokens_out;
        addCost(m.cost, e); addCost(a, e); addCost(siteCost(e.site), e);
        if (!e.success) { m.errors += 1; a.errors += 1; }
        break;
      case "result_submitted": m.results.push(e.result); a.result = e.result; break;
      case "agent_failed": m.errors += 1; a.errors += 1; a.lastError = e.error; break;
      case "message_rejected": m.errors += 1; a.errors += 1; break;
      case "note": if (e.level === "error") m.errors += 1; break;
      case "site_finished": m.sitesFinished.set(e.site, e.status); break;
      default: break;
    }
  }
  m.state = runState(m, upto);
  return m;
}

// Finished as soon as a result is submitted: agents may still be shutting down.
function runState(m, upto) {
  if (m.results.length) return "finished";
  const failedAgents = [...m.agents.values()].some((a) => a.state === "failed");
  const siteStates = [...m.sitesFinished.values()];
  if (failedAgents || siteStates.some((s) => s !== "finished")) return "failed";
  if (siteStates.length && [...m.agents.values()].every((a) => a.state === "finished")) {
    return "finished";
  }
  return upto ? "running" : "waiting";
}

function costOf(tally) {
  return { modelCalls: tally.model_calls, costUsd: tally.cost_usd, unpriced: tally.unpriced_calls };
}

const ERROR_KINDS = ["agent_failed", "message_rejected", "model_error"];

/**
 * A run bigger than the page's window: replace the counts folded from the window with the
 * server's tallies over every event (/api/aggregates). States, results and hosts still
 * come from the window and the status snapshots.
 */
export function applyAggregates(m, agg) {
  const run = agg.run;
  const kinds = run.kinds || {};
  m.windowed = true;
  m.totalEvents = run.events;
  m.decisions = kinds.decision || 0;
  m.messages = run.messages_sent;
  m.toolCalls = kinds.tool_call || 0;
  m.tokensIn = run.tokens_in;
  m.tokensOut = run.tokens_out;
  m.errors = ERROR_KINDS.reduce((sum, kind) => sum + (kinds[kind] || 0), 0);
  m.cost = costOf(run);
  m.siteCosts = new Map(agg.sites.map((site) => [site.site, costOf(site)]));
  m.crossSite = agg.site_pairs.filter((p) => p.from !== p.to)
    .reduce((sum, p) => sum + p.messages, 0);
  m.sitePairs = agg.site_pairs;
  for (const row of agg.agents) {
    if (row.agent === SITE_WRITER) continue;
    if (!m.agents.has(row.agent)) m.agents.set(row.agent, blankAgent(row.agent));
    const a = m.agents.get(row.agent);
    const k = row.kinds || {};
    Object.assign(a, {
      events: row.events, decisions: k.decision || 0, sent: row.messages_sent,
      received: row.messages_received, toolCalls: k.tool_call || 0,
      tokensIn: row.tokens_in, tokensOut: row.tokens_out, ...costOf(row),
    });
  }
}
