// The agent graph: one swimlane per site (per host in single-site runs), one node per
// agent, one edge per sender→recipient pair with its message count. Cross-site (or
// cross-node) edges are dashed and labelled. With more agents than a graph of agents can
// show readably, the site graph (site-graph.js) is drawn instead.

import { replace, svg } from "./dom.js";
import { renderSiteGraph } from "./site-graph.js";
import { routeOf } from "./topology.js";

/** The most agents drawn one node each; more, and sites are the nodes. */
export const MAX_AGENT_NODES = 24;
const siteView = { expanded: null, shown: "" };

const LANE_W = 240;
const ROW_H = 90;
const TOP = 50;

function layout(topology, agentNames) {
  const lanes = new Map();
  for (const agent of agentNames) {
    const lane = topology.groupOf(agent);
    if (!lanes.has(lane)) lanes.set(lane, []);
    lanes.get(lane).push(agent);
  }
  const laneNames = [...lanes.keys()].sort();
  const pos = new Map();
  laneNames.forEach((lane, i) => {
    lanes.get(lane).forEach((agent, j) => {
      pos.set(agent, { x: i * LANE_W + LANE_W / 2, y: TOP + j * ROW_H + ROW_H / 2 });
    });
  });
  const rows = Math.max(1, ...[...lanes.values()].map((a) => a.length));
  return { laneNames, pos, width: Math.max(1, laneNames.length) * LANE_W, height: TOP + rows * ROW_H };
}

function collectEdges(events, upto, topology) {
  const edges = new Map();
  for (let i = 0; i < upto; i += 1) {
    const e = events[i];
    if (e.kind !== "message_sent") continue;
    const key = `${e.sender}→${e.recipient}`;
    const edge = edges.get(key) || { from: e.sender, to: e.recipient, count: 0, last: e };
    edge.count += 1;
    edge.last = e;
    edge.route = routeOf(topology, e);
    edges.set(key, edge);
  }
  return [...edges.values()];
}

function edgePath(a, b, bend) {
  const mx = (a.x + b.x) / 2;
  const my = (a.y + b.y) / 2 - bend;
  return `M${a.x},${a.y} Q${mx},${my} ${b.x},${b.y}`;
}

/**
 * Draw the graph for events[0:upto]; `onSelect(message)` gets a clicked edge's last
 * message; `onChange()` re-renders after a site is expanded or collapsed.
 */
export function renderGraph(events, upto, topology, metrics, onSelect, onChange) {
  const names = new Set(topology.agents());
  for (const name of metrics.agents.keys()) names.add(name);
  if (names.size > MAX_AGENT_NODES || metrics.windowed) {
    if (!document.getElementById("graph").querySelector(".site-graph")) siteView.shown = "";
    renderSiteGraph(events, upto, topology, metrics, siteView, (site) => {
      siteView.expanded = site;
      onChange?.();
    });
    return;
  }
  const edges = collectEdges(events, upto, topology);
  const { laneNames, pos, width, height } = layout(topology, [...names].sort());
  const lanes = laneNames.map((lane, i) =>
    svg("g", { class: "lane", "data-lane": lane },
      svg("rect", { x: i * LANE_W + 4, y: 4, width: LANE_W - 8, height: height - 8, rx: 8 }),
      svg("text", { x: i * LANE_W + LANE_W / 2, y: 28, class: "lane-label", text: lane })));
  const edgeNodes = edges.filter((e) => pos.has(e.from) && pos.has(e.to)).map((edge) => {
    const bend = edge.from < edge.to ? 30 : -30;
    return svg("g", {
      class: `edge ${edge.route.cross ? "cross" : "local"}`,
      "data-from": edge.from, "data-to": edge.to,
      onclick: () => onSelect(edge.last),
    },
      svg("path", { d: edgePath(pos.get(edge.from), pos.get(edge.to), bend), "marker-end": "url(#arrow)" }),
      svg("text", {
        x: (pos.get(edge.from).x + pos.get(edge.to).x) / 2,
        y: (pos.get(edge.from).y + pos.get(edge.to).y) / 2 - bend / 2 - 4,
        class: "edge-label", text: `${edge.count}× ${edge.route.label}`,
      }));
  });
  const nodes = [...pos.entries()].map(([agent, p]) => {
    const state = metrics.agents.get(agent)?.state ?? "starting";
    return svg("g", { class: `node state-${state}`, "data-agent": agent },
      svg("circle", { cx: p.x, cy: p.y, r: 18 }),
      svg("text", { x: p.x, y: p.y + 34, class: "node-label", text: agent }));
  });
  const defs = svg("defs", {}, svg("marker", {
    id: "arrow", viewBox: "0 0 10 10", refX: 28, refY: 5, markerWidth: 8, markerHeight: 8,
    orient: "auto-start-reverse",
  }, svg("path", { d: "M0,0 L10,5 L0,10 z" })));
  replace(document.getElementById("graph"),
    svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, id: "graph-svg" },
      defs, lanes, edgeNodes, nodes));
}
