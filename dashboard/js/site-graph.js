// The graph of a big run: one node per site (its size the site's agent count), one edge
// per site pair whose thickness grows with its message count (the count is on hover, not
// a label), messages inside a site in the node. Clicking a site expands it: its agents,
// the busiest first, and the top talkers of the run or of that site.

import { el, num, replace, svg } from "./dom.js";
import { SITE_WRITER } from "./topology.js";

const SHOWN_AGENTS = 60;
const TOP_TALKERS = 15;

/** Site-to-site message counts: the server's (whole run) or folded from the window. */
function sitePairs(events, upto, topology, metrics) {
  if (metrics.sitePairs) return metrics.sitePairs;
  const pairs = new Map();
  for (let i = 0; i < upto; i += 1) {
    const e = events[i];
    if (e.kind !== "message_received") continue;
    const from = e.sender_site || topology.siteOf(e.sender) || "?";
    const key = `${from}→${e.site}`;
    const pair = pairs.get(key) || { from, to: e.site, messages: 0 };
    pair.messages += 1;
    pairs.set(key, pair);
  }
  return [...pairs.values()];
}

function placeSites(sites, width, height) {
  const pos = new Map();
  const r = Math.min(width, height) / 2 - 70;
  sites.forEach((site, i) => {
    const angle = (2 * Math.PI * i) / sites.length - Math.PI / 2;
    pos.set(site, {
      x: width / 2 + (sites.length > 1 ? r * Math.cos(angle) : 0),
      y: height / 2 + (sites.length > 1 ? r * Math.sin(angle) : 0),
    });
  });
  return pos;
}

/** The point `distance` from `center` on the way to `toward` (an edge meets a node's rim). */
function toward(center, point, distance) {
  const dx = point.x - center.x;
  const dy = point.y - center.y;
  const length = Math.hypot(dx, dy) || 1;
  return { x: center.x + (dx / length) * distance, y: center.y + (dy / length) * distance };
}

function agentsBySite(topology) {
  const bySite = new Map();
  for (const agent of topology.agents()) {
    const site = topology.siteOf(agent) || "unknown";
    if (!bySite.has(site)) bySite.set(site, []);
    bySite.get(site).push(agent);
  }
  return bySite;
}

function busiest(agents, metrics, count) {
  const score = (name) => {
    const a = metrics.agents.get(name);
    return a ? a.sent + a.received : -1;
  };
  return [...agents].sort((x, y) => score(y) - score(x) || (x < y ? -1 : 1)).slice(0, count);
}

function expandedAgents(site, agents, metrics) {
  const shown = busiest(agents, metrics, SHOWN_AGENTS);
  const cells = shown.map((agent) => {
    const state = metrics.agents.get(agent)?.state ?? "starting";
    return el("span", { class: `agent-chip state-${state}`, "data-agent": agent, text: agent });
  });
  const more = agents.length - shown.length;
  return el("div", { class: "expanded-site", "data-site": site },
    el("h3", { text: `${site}: ${num(agents.length)} agents` }), cells,
    more > 0 ? el("span", { class: "more", text: ` … ${num(more)} more` }) : null);
}

function topTalkers(metrics, topology, site) {
  const names = [...metrics.agents.keys()].filter(
    (a) => a !== SITE_WRITER && (!site || topology.siteOf(a) === site));
  const rows = busiest(names, metrics, TOP_TALKERS).map((name) => {
    const a = metrics.agents.get(name);
    return el("tr", { "data-agent": name },
      [name, topology.siteOf(name), num(a.sent), num(a.received)]
        .map((v) => el("td", { text: String(v ?? "—") })));
  });
  return el("table", { class: "top-talkers" },
    el("caption", { text: site ? `Top talkers in ${site}` : "Top talkers" }),
    el("thead", {}, el("tr", {}, ["agent", "site", "sent", "received"]
      .map((h) => el("th", { text: h })))),
    el("tbody", {}, rows));
}

/**
 * Draw the site graph; `state.expanded` names the expanded site (or null) and
 * `onExpand(site)` is called when a site is clicked (again: collapse).
 */
export function renderSiteGraph(events, upto, topology, metrics, state, onExpand) {
  const bySite = agentsBySite(topology);
  const sites = [...new Set([...topology.sites, ...bySite.keys()])].sort();
  const pairs = sitePairs(events, upto, topology, metrics);
  const talkers = busiest([...metrics.agents.keys()], metrics, 100)
    .map((a) => [a, metrics.agents.get(a).sent, metrics.agents.get(a).received,
      metrics.agents.get(a).state]);
  const signature = JSON.stringify([sites, pairs, talkers, state.expanded,
    [...bySite.values()].map((agents) => agents.length)]);
  if (signature === state.shown) return;
  state.shown = signature;
  const width = 720;
  const height = 420;
  const pos = placeSites(sites, width, height);
  const within = new Map(pairs.filter((p) => p.from === p.to).map((p) => [p.from, p.messages]));
  const most = Math.max(1, ...pairs.map((p) => p.messages));
  const radius = (site) => 22 + Math.min(30, Math.sqrt(bySite.get(site)?.length ?? 0) * 2);
  const edges = pairs.filter((p) => p.from !== p.to && pos.has(p.from) && pos.has(p.to))
    .map((p) => {
      const a = pos.get(p.from);
      const b = pos.get(p.to);
      const bend = p.from < p.to ? 24 : -24;
      const c = { x: (a.x + b.x) / 2 + bend, y: (a.y + b.y) / 2 - bend };
      const start = toward(a, c, radius(p.from));
      const end = toward(b, c, radius(p.to) + 2);
      const d = `M${start.x},${start.y} Q${c.x},${c.y} ${end.x},${end.y}`;
      return svg("g", { class: "site-edge", "data-from": p.from, "data-to": p.to, "data-messages": p.messages },
        svg("path", { d, "stroke-width": 1 + 7 * Math.sqrt(p.messages / most), "marker-end": "url(#site-arrow)" }),
        svg("title", { text: `${p.from} → ${p.to}: ${num(p.messages)} messages` }));
    });
  const nodes = sites.map((site) => {
    const p = pos.get(site);
    const agents = bySite.get(site)?.length ?? 0;
    const r = radius(site);
    return svg("g", {
      class: `site-node ${state.expanded === site ? "expanded" : ""}`, "data-site": site,
      onclick: () => onExpand(state.expanded === site ? null : site),
    },
      svg("circle", { cx: p.x, cy: p.y, r }),
      svg("text", { x: p.x, y: p.y - 4, class: "site-label", text: site }),
      svg("text", { x: p.x, y: p.y + 12, class: "site-count", text: `${num(agents)} agents` }),
      svg("title", { text: `${site}: ${num(agents)} agents, ${num(within.get(site) ?? 0)} messages within` }));
  });
  const defs = svg("defs", {}, svg("marker", {
    id: "site-arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 10, markerHeight: 10,
    markerUnits: "userSpaceOnUse", orient: "auto-start-reverse",
  }, svg("path", { d: "M0,0 L10,5 L0,10 z" })));
  replace(document.getElementById("graph"),
    svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, id: "graph-svg", class: "site-graph" },
      defs, edges, nodes),
    state.expanded ? expandedAgents(state.expanded, bySite.get(state.expanded) || [], metrics) : null,
    topTalkers(metrics, topology, state.expanded));
}
