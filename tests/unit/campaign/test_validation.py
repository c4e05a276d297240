from __future__ import annotations

import pytest

from chia.campaign import CampaignError, CampaignSpec, campaign_problems, validate_campaign


def test_valid_campaign_has_no_problems(make_spec):
    spec = make_spec()
    assert campaign_problems(spec) == []
    assert validate_campaign(spec) is spec


def test_self_peer_is_rejected_even_when_federated(campaign_data):
    data = campaign_data()
    data["agents"][0]["allowed_peers"] = ["a", "b"]
    spec = CampaignSpec.model_validate(data)
    for federated in (False, True):
        with pytest.raises(CampaignError, match="'a' lists itself in allowed_peers"):
            validate_campaign(spec, federated=federated)


def test_duplicates_rejected_even_when_federated(campaign_data):
    data = campaign_data()
    data["agents"][1]["name"] = "a"
    data["agents"][1]["allowed_peers"] = ["b"]
    spec = CampaignSpec.model_validate(data)
    assert "duplicate agent name 'a'" in campaign_problems(spec, federated=True)


def test_unknown_peer_and_initial_agent_allowed_only_when_federated(campaign_data):
    data = campaign_data(initial_agent="elsewhere")
    data["agents"] = [data["agents"][0]]  # b lives on another site
    spec = CampaignSpec.model_validate(data)
    problems = campaign_problems(spec)
    assert "initial_agent 'elsewhere' is not a declared agent" in problems
    assert "agent 'a': unknown peer 'b'" in problems
    assert campaign_problems(spec, federated=True) == []


def test_unknown_servers_tools_and_resources(campaign_data):
    data = campaign_data(
        mcp_servers=[{"name": "chem", "url": "http://127.0.0.1:9/mcp"}],
        resources=[{"name": "mol", "kind": "json", "value": {}}],
    )
    data["agents"][0].update(
        mcp_servers=["chem", "ghost"],
        allowed_tools=["chem.energy", "other.tool", "bogus", "send_message"],
        resources=["mol", "missing"],
    )
    problems = campaign_problems(CampaignSpec.model_validate(data), federated=True)
    assert "agent 'a': unknown MCP server 'ghost'" in problems
    assert "agent 'a': unknown resource 'missing'" in problems
    assert any("'other.tool' names MCP server 'other'" in p for p in problems)
    assert any("unknown tool 'bogus'" in p for p in problems)
    assert not any("'chem.energy'" in p or "tool 'send_message'" in p for p in problems)
    assert len(problems) == 4


def test_error_message_lists_every_problem_with_source(campaign_data):
    data = campaign_data(initial_agent="nobody")
    data["agents"][0]["allowed_peers"] = ["a"]
    with pytest.raises(CampaignError) as info:
        validate_campaign(CampaignSpec.model_validate(data), source="x.jsonc")
    assert len(info.value.problems) == 2
    assert all(line.startswith("x.jsonc: ") for line in str(info.value).splitlines())
