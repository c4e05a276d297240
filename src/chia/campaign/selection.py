"""Choose the slice of a campaign's agents that one site runs (``--agents a,b``)."""

from __future__ import annotations

from chia.campaign.model import CampaignSpec
from chia.errors import ChiaUsageError

__all__ = ["parse_agent_list", "select_agents"]


def parse_agent_list(raw: str) -> list[str]:
    """Split ``"a, b,,c"`` into ``["a", "b", "c"]``: trim whitespace, drop empty segments."""
    return [part.strip() for part in raw.split(",") if part.strip()]


def select_agents(campaign: CampaignSpec, selection: str | list[str]) -> CampaignSpec:
    """Return a copy of ``campaign`` holding only the selected agents, in campaign order.

    ``initial_agent`` and peers are left as they are: in a federated run they may live on
    another site.

    Args:
        campaign: The whole campaign.
        selection: A comma list (``"a,b"``) or a list of names.

    Raises:
        ChiaUsageError: For an empty selection, a duplicate, or an unknown name.
    """
    names = parse_agent_list(selection) if isinstance(selection, str) else list(selection)
    if not names:
        raise ChiaUsageError("no agents selected: pass --agents with at least one name")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ChiaUsageError(f"agent {name!r} is selected twice")
        seen.add(name)
    unknown = [name for name in names if name not in campaign.agent_names]
    if unknown:
        raise ChiaUsageError(
            f"unknown agent(s) {', '.join(map(repr, unknown))} in campaign "
            f"{campaign.name!r}; it declares {', '.join(campaign.agent_names)}"
        )
    chosen = [agent for agent in campaign.agents if agent.name in seen]
    return campaign.model_copy(update={"agents": chosen})
