"""The launch plan of a campaign: which site runs which agents, and the commands to run."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from chia.campaign.model import CampaignSpec

__all__ = ["DEFAULT_SITE", "CampaignPlan", "MessageRoute", "SitePlan", "build_plan"]

#: Where agents without a ``site`` are placed.
DEFAULT_SITE = "local"


@dataclass(frozen=True)
class SitePlan:
    """One site's slice and the command that launches it."""

    site: str
    agents: tuple[str, ...]
    command: str
    hosts_initial_agent: bool


@dataclass(frozen=True)
class MessageRoute:
    """A permitted message direction between two agents."""

    sender: str
    recipient: str
    cross_site: bool


@dataclass(frozen=True)
class CampaignPlan:
    """Everything an operator needs to launch a campaign across its sites."""

    campaign: str
    run_id: str
    initial_agent: str
    sites: tuple[SitePlan, ...]
    routes: tuple[MessageRoute, ...]
    bootstrap_command: str

    @property
    def federated(self) -> bool:
        """True when the campaign spans more than one site."""
        return len(self.sites) > 1


def build_plan(
    campaign: CampaignSpec,
    *,
    campaign_ref: str,
    run_id: str | None = None,
    exchange: str = "http",
    exchange_url: str | None = None,
) -> CampaignPlan:
    """Group agents by their default site and spell out each launch command.

    Args:
        campaign: A validated campaign.
        campaign_ref: How the commands should name the campaign (a path or packaged name).
        run_id: The run id; defaults to the campaign's, else ``<campaign>-run``.
        exchange: The exchange kind the sites will meet on.
        exchange_url: The exchange URL (``http``, ``push``, ``globus``; or ``redis://``);
            shown as a placeholder when unknown and the kind needs one.
    """
    run = run_id or campaign.run_id or f"{campaign.name}-run"
    placement: dict[str, list[str]] = {}
    site_of: dict[str, str] = {}
    for agent in campaign.agents:
        site = agent.site or DEFAULT_SITE
        placement.setdefault(site, []).append(agent.name)
        site_of[agent.name] = site
    common = ["--campaign", campaign_ref, "--run-id", run, "--exchange", exchange]
    placeholders = {
        "http": "<URL of chia exchange serve>",
        "push": "<ws:// URL of chia exchange serve --transport push>",
        "globus": "globus://<project-uuid>",
    }
    if exchange in placeholders or exchange_url:
        common += ["--exchange-url", exchange_url or placeholders[exchange]]
    federated = len(placement) > 1
    sites = []
    for site, agents in placement.items():
        argv = ["chia", "spawn-site", "--system", site, "--agents", ",".join(agents), *common]
        if federated:
            argv.append("--no-bootstrap")
        sites.append(
            SitePlan(
                site=site,
                agents=tuple(agents),
                command=shlex.join(argv),
                hosts_initial_agent=campaign.initial_agent in agents,
            )
        )
    routes = tuple(
        MessageRoute(
            sender=agent.name,
            recipient=peer,
            cross_site=site_of.get(peer, DEFAULT_SITE) != site_of[agent.name],
        )
        for agent in campaign.agents
        for peer in agent.allowed_peers
    )
    bootstrap = shlex.join(["chia", "bootstrap", *common])
    return CampaignPlan(
        campaign=campaign.name,
        run_id=run,
        initial_agent=campaign.initial_agent,
        sites=tuple(sites),
        routes=routes,
        bootstrap_command=bootstrap,
    )
