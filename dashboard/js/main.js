// Wires the dashboard: load the run, its status and the newest window of events, then
// follow the live stream and re-render every view at the replay position. A run bigger
// than the window is counted by the server (/api/aggregates, refreshed at most once a
// second) and filtered by it (/api/timeline); the page never holds more than WINDOW events.

import { getJSON, openStream } from "./api.js";
import { renderAgents } from "./agents.js";
import { renderCards } from "./cards.js";
import { renderDetail } from "./detail.js";
import { EventLog } from "./event-log.js";
import { renderGraph } from "./graph.js";
import { renderConnection, renderHeader } from "./header.js";
import { applyAggregates, computeMetrics } from "./metrics.js";
import { Replay } from "./replay.js";
import { Timeline } from "./timeline.js";
import { buildTopology } from "./topology.js";

const WINDOW = 20000;
const AGGREGATES_EVERY_MS = 1000;

const log = new EventLog(WINDOW);
let run = null;
let status = { sites: {}, status: { agents: [] }, placement: { agents: [] } };
let topology = buildTopology(status, []);
let aggregates = null;
let aggregatesTimer = null;
let talliesPending = false;
let scheduled = false;

const select = (event) => renderDetail(event, topology);
const timeline = new Timeline(select);
const replay = new Replay(document.getElementById("replay"), () => schedule());
timeline.onFilter = () => schedule();

function filterOptions() {
  const kinds = new Set(log.events.map((e) => e.kind));
  for (const row of aggregates?.agents || []) for (const k of Object.keys(row.kinds)) kinds.add(k);
  const agents = new Set(log.events.map((e) => e.agent));
  for (const name of topology.agents()) agents.add(name);
  return { site: new Set(topology.sites), agent: agents, kind: kinds };
}

function render() {
  scheduled = false;
  topology = buildTopology(status, log.events, run);
  const upto = replay.position;
  const metrics = computeMetrics(log.events, upto, topology);
  if (log.truncated && aggregates) applyAggregates(metrics, aggregates);
  renderHeader(run, metrics, topology);
  renderCards(metrics, topology);
  renderGraph(log.events, upto, topology, metrics, select, schedule);
  renderAgents(metrics, topology, status);
  timeline.render(log.events, upto, filterOptions(), log.truncated);
  document.body.dataset.events = String(log.total);
  document.body.dataset.window = String(log.events.length);
}

function schedule() {
  if (!scheduled) {
    scheduled = true;
    setTimeout(render, 16); // not requestAnimationFrame: it stalls in background tabs
  }
}

/**
 * Fetch the run document (site badges) and, for a big run, the server's tallies: now,
 * then at most once per AGGREGATES_EVERY_MS; new events are drawn without waiting.
 */
function refreshTallies() {
  if (aggregatesTimer) {
    talliesPending = true; // asked again meanwhile: fetch once more when the wait ends
    return;
  }
  aggregatesTimer = setTimeout(() => {
    aggregatesTimer = null;
    if (talliesPending) {
      talliesPending = false;
      refreshTallies();
    }
  }, AGGREGATES_EVERY_MS);
  const wanted = [getJSON("/api/run")];
  if (log.truncated) wanted.push(getJSON("/api/aggregates?top_agents=500"));
  Promise.all(wanted).then(([runDoc, totals]) => {
    run = runDoc;
    if (totals) aggregates = totals;
    schedule();
  }).catch(() => { /* the next update asks again */ });
}

async function start() {
  [run, status] = await Promise.all([getJSON("/api/run"), getJSON("/api/status")]);
  log.add(await getJSON(`/api/events?tail=${WINDOW}`));
  replay.setLength(log.events.length);
  if (log.truncated) refreshTallies();
  schedule();
  openStream(log.cursor, WINDOW, {
    events: (doc) => {
      if (log.add(doc)) {
        replay.setLength(log.events.length);
        refreshTallies();
        timeline.refreshServer();
        schedule();
      }
    },
    status: (doc) => { status = doc; schedule(); },
    connection: renderConnection,
  });
}

start().catch((error) => {
  renderConnection("error");
  document.getElementById("detail").textContent = String(error);
});
