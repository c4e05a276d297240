// The header: run id, run state, and (federated runs only) the sites badge.

import { el, num, replace } from "./dom.js";
import { costText } from "./metrics.js";

/** Render the header from the run document, the metrics and the topology. */
export function renderHeader(run, metrics, topology) {
  document.getElementById("run-id").textContent = run.run_id;
  const state = document.getElementById("run-state");
  state.textContent = metrics.state;
  state.className = `state state-${metrics.state}`;
  document.title = `chia · ${run.run_id} · ${metrics.state}`;

  const badge = document.getElementById("sites-badge");
  badge.hidden = !topology.federated;
  if (!topology.federated) return;
  const label = [el("span", { class: "badge-label", text: "Sites:" })];
  const items = run.sites.map((site) =>
    el(
      "span",
      { class: "site", "data-site": site.site, title: `${site.bad_lines} unreadable lines` },
      el("strong", { text: site.site }),
      ` ${site.agents.length} agent${site.agents.length === 1 ? "" : "s"} · `,
      `${num(site.events)} events`,
      metrics.siteCosts.has(site.site)
        ? el("span", { class: "site-cost", text: ` · ${costText(metrics.siteCosts.get(site.site))}` })
        : null,
    ),
  );
  replace(badge, label, items);
}

/** Show whether the live stream is connected. */
export function renderConnection(state) {
  const node = document.getElementById("connection");
  node.textContent = state;
  node.className = `connection connection-${state}`;
}
