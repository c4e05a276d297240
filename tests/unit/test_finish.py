"""The finish reasons are written once: every place that names them agrees."""

from __future__ import annotations

from typing import get_args

from chia.campaign.model import CampaignSpec
from chia.events import AgentFinished
from chia.finish import FINAL_REASONS, FinishReason


def test_stopped_is_the_one_reason_that_is_not_final() -> None:
    assert set(get_args(FinishReason)) - set(FINAL_REASONS) == {"stopped"}


def test_events_and_campaign_success_criteria_use_these_reasons() -> None:
    event = AgentFinished.model_json_schema()["properties"]["reason"]
    assert set(event["enum"]) == set(get_args(FinishReason))
    success = CampaignSpec.model_json_schema()["$defs"]
    found = [d for d in success.values() if "success" in d.get("properties", {})]
    assert found, "no model carries the success criteria"
    items = found[0]["properties"]["success"]["items"]
    assert set(items["enum"]) == set(FINAL_REASONS)
