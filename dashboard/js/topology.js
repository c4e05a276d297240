// Where each agent runs: its site (federated runs) or host (single-site runs), and the
// route a message takes between two agents.

/** The writer name of a site's own events (chia.events.SITE_WRITER; a test keeps them equal). */
export const SITE_WRITER = "_site";

/**
 * Build the topology from the status document, the events in the window and (when given)
 * the run document, whose per-site agent lists name every agent of a run too big to hold.
 */
export function buildTopology(status, events, run) {
  const siteOf = new Map();
  const hostOf = new Map();
  const sites = new Set(Object.keys(status.sites || {}));
  for (const site of run?.sites || []) {
    sites.add(site.site);
    for (const agent of site.agents) siteOf.set(agent, site.site);
  }
  for (const agent of status.status?.agents || []) {
    siteOf.set(agent.agent, agent.site);
    if (agent.host) hostOf.set(agent.agent, agent.host);
  }
  for (const placed of status.placement?.agents || []) {
    if (!siteOf.has(placed.agent)) siteOf.set(placed.agent, placed.site);
    if (!hostOf.has(placed.agent)) hostOf.set(placed.agent, placed.host);
  }
  for (const event of events) {
    // The writer's own tag is authoritative for the writer.
    sites.add(event.site);
    if (event.agent !== SITE_WRITER) siteOf.set(event.agent, event.site);
    if (event.kind === "agent_registered") hostOf.set(event.agent, event.host);
  }
  const federated = sites.size > 1;
  return {
    federated,
    sites: [...sites].sort(),
    siteOf: (agent) => siteOf.get(agent) ?? null,
    hostOf: (agent) => hostOf.get(agent) ?? null,
    /** The swimlane of an agent: its site when federated, else its host. */
    groupOf: (agent) => (federated ? siteOf.get(agent) : hostOf.get(agent)) ?? "unknown",
    agents: () => [...new Set([...siteOf.keys()])].sort(),
  };
}

/** Describe a message's route: {label, cross, fromLabel, toLabel, from, to}. */
export function routeOf(topology, message) {
  const fromSite = message.site;
  const toSite = message.recipient_site || topology.siteOf(message.recipient);
  if (topology.federated) {
    const cross = Boolean(toSite) && toSite !== fromSite;
    return {
      label: cross ? "cross-site" : "same-site",
      cross,
      fromLabel: "From site",
      toLabel: "To site",
      from: fromSite,
      to: toSite ?? "unknown",
    };
  }
  const fromHost = topology.hostOf(message.sender) ?? "unknown";
  const toHost = topology.hostOf(message.recipient) ?? "unknown";
  const cross = fromHost !== toHost;
  return {
    label: cross ? "cross-node" : "same-node",
    cross,
    fromLabel: "From host",
    toLabel: "To host",
    from: fromHost,
    to: toHost,
  };
}
