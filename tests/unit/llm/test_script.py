import json

import pytest

from chia.llm.errors import LLMConfigError
from chia.llm.script import Script, ScriptedToolCall, ScriptPlayer


def test_list_and_object_forms():
    assert Script.parse([{"content": "a"}]).responses[0].content == "a"
    script = Script.parse({"responses": [], "default": {"content": "d"}, "model": "m"})
    assert script.default is not None and script.model == "m"


def test_invalid_script_names_its_source(tmp_path):
    with pytest.raises(LLMConfigError, match=r"s\.json: not a valid reply script"):
        Script.parse({"responses": [{"bogus": 1}]}, "s.json")
    path = tmp_path / "x.json"
    path.write_text("{not json")
    with pytest.raises(LLMConfigError, match="cannot read reply script"):
        Script.load(path)


def test_player_replays_then_defaults():
    player = ScriptPlayer(
        Script.parse({"responses": [{"content": "1"}], "default": {"content": "d"}})
    )
    assert [player.next_step().content for _ in range(3)] == ["1", "d", "d"]
    assert ScriptPlayer(Script.parse([])).next_step() is None


def test_tool_call_arguments():
    good = ScriptedToolCall(name="t", arguments={"a": 1}).request("c1")
    assert good.arguments == {"a": 1} and good.error is None
    bad = ScriptedToolCall(name="t", arguments="{oops").request("c2")
    assert bad.error and bad.raw_arguments == "{oops" and bad.arguments == {}
    not_object = ScriptedToolCall(name="t", arguments="[1]").request("c3")
    assert not_object.error == "arguments are not a JSON object"
    assert json.loads(ScriptedToolCall(name="t", arguments={"b": 2}).raw_arguments()) == {"b": 2}
