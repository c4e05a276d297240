// Wires the dashboard: load the run, its status and events, then follow the live stream
// and re-render every view at the replay position.

import { getJSON, openStream } from "./api.js";
import { renderAgents } from "./agents.js";
import { renderCards } from "./cards.js";
import { renderDetail } from "./detail.js";
import { EventLog } from "./event-log.js";
import { renderGraph } from "./graph.js";
import { renderConnection, renderHeader } from "./header.js";
import { computeMetrics } from "./metrics.js";
import { Replay } from "./replay.js";
import { Timeline } from "./timeline.js";
import { buildTopology } from "./topology.js";

const log = new EventLog();
let run = null;
let status = { sites: {}, status: { agents: [] }, placement: { agents: [] } };
let topology = buildTopology(status, []);
let scheduled = false;

const select = (event) => renderDetail(event, topology);
const timeline = new Timeline(select);
const replay = new Replay(document.getElementById("replay"), () => schedule());
timeline.onFilter = () => schedule();

function render() {
  scheduled = false;
  topology = buildTopology(status, log.events);
  const upto = replay.position;
  const metrics = computeMetrics(log.events, upto, topology);
  renderHeader(run, metrics, topology);
  renderCards(metrics, topology);
  renderGraph(log.events, upto, topology, metrics, select);
  renderAgents(metrics, topology, status);
  timeline.render(log.events, upto);
  document.body.dataset.events = String(log.events.length);
}

function schedule() {
  if (!scheduled) {
    scheduled = true;
    setTimeout(render, 16); // not requestAnimationFrame: it stalls in background tabs
  }
}

async function refreshRun() {
  run = await getJSON("/api/run");
}

async function start() {
  [run, status] = await Promise.all([getJSON("/api/run"), getJSON("/api/status")]);
  log.add(await getJSON("/api/events"));
  replay.setLength(log.events.length);
  schedule();
  openStream(log.cursor, {
    events: async (doc) => {
      if (log.add(doc)) {
        await refreshRun();
        replay.setLength(log.events.length);
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
