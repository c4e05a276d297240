"""JSON Schemas for campaign and prompt-profile files, for editor completion."""

from __future__ import annotations

from typing import Any

from chia.campaign.model import CampaignSpec, PromptProfile

__all__ = ["campaign_schema", "prompt_profile_schema"]


def campaign_schema() -> dict[str, Any]:
    """Return the JSON Schema of a campaign file."""
    schema = CampaignSpec.model_json_schema(by_alias=True)
    schema["title"] = "chia campaign"
    return schema


def prompt_profile_schema() -> dict[str, Any]:
    """Return the JSON Schema of a prompt-profile file."""
    return PromptProfile.model_json_schema()
