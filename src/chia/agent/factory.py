"""Choose the policy a campaign's agents decide with."""

from __future__ import annotations

from chia.agent.policy import Policy
from chia.agent.scripted import ScriptedPolicy
from chia.campaign.model import CampaignSpec
from chia.errors import ChiaUsageError

__all__ = ["make_policy"]


def make_policy(campaign: CampaignSpec) -> Policy:
    """Return the policy for ``campaign``'s ``lm`` settings.

    Raises:
        ChiaUsageError: If the scripted provider is chosen but the campaign has no
            ``policy`` section, or the provider is unknown.
    """
    if campaign.lm.provider == "scripted":
        if campaign.policy is None:
            raise ChiaUsageError(
                f"campaign {campaign.name!r} uses the scripted model but has no 'policy' section"
            )
        return ScriptedPolicy(campaign.policy)
    raise ChiaUsageError(f"unknown lm provider {campaign.lm.provider!r}; known: scripted")
