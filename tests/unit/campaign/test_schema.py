from __future__ import annotations

from chia.campaign import campaign_schema, prompt_profile_schema


def test_campaign_schema_describes_the_file():
    schema = campaign_schema()
    assert schema["additionalProperties"] is False
    assert {"agents", "user_task", "initial_agent", "$schema"} <= set(schema["properties"])
    assert "user_task" in schema["required"]
    assert "api_key_env" in schema["$defs"]["LMSettings"]["properties"]


def test_prompt_profile_schema():
    assert "system_prompt" in prompt_profile_schema()["required"]
