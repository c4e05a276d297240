from __future__ import annotations

import pytest

from chia.campaign import load_campaign, packaged_campaigns
from chia.errors import ChiaUsageError


def test_packaged_campaign_loads_by_name_and_by_path(federated_chat_dir):
    assert "federated-chat" in packaged_campaigns()
    by_name = load_campaign("federated-chat")
    by_dir = load_campaign(federated_chat_dir)
    assert by_name.spec == by_dir.spec
    assert by_name.spec.agent_names == ["agent-aurora", "agent-crux"]
    assert by_name.prompts.recursion_limit > 0
    assert by_name.directory == federated_chat_dir.resolve()


def test_jsonc_comments_and_trailing_commas(write_campaign, campaign_data):
    import json

    text = "// a comment\n" + json.dumps(campaign_data())[:-1] + ",}"
    assert load_campaign(write_campaign(text)).spec.name == "pair"


def test_syntax_error_names_file_line_and_column(write_campaign):
    path = write_campaign('{\n  "name": "x",\n  "user_task": }\n')
    with pytest.raises(ChiaUsageError, match=rf"{path}:3:16: JSON syntax error"):
        load_campaign(path)


def test_unknown_key_names_key_and_file(write_campaign, campaign_data):
    data = campaign_data()
    data["agents"][1]["colour"] = "red"
    path = write_campaign(data)
    with pytest.raises(ChiaUsageError, match=rf"{path}: unknown key 'agents.1.colour'"):
        load_campaign(path)


def test_duplicate_json_key_is_an_error(write_campaign):
    path = write_campaign('{"name": "a", "name": "b"}')
    with pytest.raises(ChiaUsageError, match="Duplicate key"):
        load_campaign(path)


def test_missing_campaign_and_prompt_profile(write_campaign, campaign_data, tmp_path):
    with pytest.raises(ChiaUsageError, match=r"packaged: .*federated-chat"):
        load_campaign(str(tmp_path / "nope"))
    path = write_campaign(campaign_data(prompt_profile="terse"))
    with pytest.raises(ChiaUsageError, match="prompt_profile 'terse' not found"):
        load_campaign(path)


def test_cross_reference_errors_surface_at_load(write_campaign, campaign_data):
    data = campaign_data()
    data["agents"][0]["allowed_peers"] = ["a"]
    with pytest.raises(ChiaUsageError, match="'a' lists itself"):
        load_campaign(write_campaign(data))
