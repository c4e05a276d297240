from __future__ import annotations

import pytest
from pydantic import ValidationError

from chia.campaign import CampaignSpec, LMSettings, McpServerSpec, ResourceSpec


def test_minimal_campaign_gets_defaults(make_spec):
    spec = make_spec()
    assert spec.lm.provider == "scripted"
    assert spec.limits.max_decisions == 20
    assert spec.agent_names == ["a", "b"]
    assert spec.agent("b").site == "s2"
    with pytest.raises(KeyError):
        spec.agent("zzz")


def test_unknown_key_is_named(campaign_data):
    with pytest.raises(ValidationError) as info:
        CampaignSpec.model_validate(campaign_data(colour="blue"))
    assert info.value.errors()[0]["loc"] == ("colour",)
    assert info.value.errors()[0]["type"] == "extra_forbidden"


def test_bad_agent_name_rejected(campaign_data):
    data = campaign_data()
    data["agents"][0]["name"] = "bad name!"
    with pytest.raises(ValidationError, match="pattern"):
        CampaignSpec.model_validate(data)


def test_api_key_never_accepted_inline():
    with pytest.raises(ValidationError, match="api_key_env"):
        LMSettings.model_validate({"api_key": "sk-secret"})
    assert LMSettings(api_key_env="OPENAI_API_KEY").api_key_env == "OPENAI_API_KEY"
    with pytest.raises(ValidationError):
        LMSettings(api_key_env="not a var name")


def test_mcp_server_needs_command_or_url():
    assert McpServerSpec(name="s", url="http://127.0.0.1:1/mcp").url
    assert McpServerSpec(name="s", command="python", args=["-m", "x"]).command == "python"
    with pytest.raises(ValidationError, match="exactly one"):
        McpServerSpec(name="s")
    with pytest.raises(ValidationError, match="exactly one"):
        McpServerSpec(name="s", command="x", url="http://x")


def test_resource_needs_content():
    assert ResourceSpec(name="r", kind="json", value={"k": 1}).value == {"k": 1}
    with pytest.raises(ValidationError, match="needs 'path'"):
        ResourceSpec(name="r", kind="file")
    with pytest.raises(ValidationError):
        ResourceSpec(name="r", kind="file", path="x", scope="nowhere")


def test_counter_policy_target_must_be_reachable(campaign_data):
    spec = CampaignSpec.model_validate(campaign_data(policy={"kind": "counter", "target": 3}))
    assert spec.policy is not None and spec.policy.target == 3
    with pytest.raises(ValidationError, match="target"):
        CampaignSpec.model_validate(
            campaign_data(policy={"kind": "counter", "start": 5, "target": 2})
        )
    with pytest.raises(ValidationError):
        CampaignSpec.model_validate(campaign_data(policy={"kind": "dice"}))
