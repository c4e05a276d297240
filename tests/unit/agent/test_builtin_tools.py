import json

from chia.agent.builtin_tools import BUILTIN_SPECS, is_builtin, run_builtin
from chia.agent.policy import FinishTurn, SendMessage, SubmitResult
from chia.llm import ToolCallRequest


def _call(name, **arguments):
    return ToolCallRequest(id="c", name=name, arguments=arguments)


def test_specs_are_plain_json_schemas():
    by_name = {spec.name: spec.parameters for spec in BUILTIN_SPECS}
    assert set(by_name) == {"send_message", "finish_turn", "submit_result"}
    send = by_name["send_message"]
    assert send["required"] == ["recipient", "content"]
    assert send["properties"]["kind"]["enum"] == ["chat"]
    assert "const" not in json.dumps(send) and "title" not in send["properties"]["content"]
    assert is_builtin("finish_turn") and not is_builtin("counter__increment")


def test_valid_calls_become_actions():
    sent = run_builtin(_call("send_message", recipient="b", content="hi", tldr="t"), ["b"])
    assert sent.ok and not sent.ends_turn
    assert sent.action == SendMessage(recipient="b", content="hi", tldr="t")
    done = run_builtin(_call("submit_result", result="10"), ["b"])
    assert done.ends_turn and done.action == SubmitResult(result="10")
    assert run_builtin(_call("finish_turn"), []).action == FinishTurn()


def test_bad_arguments_are_structured_refusals():
    out = run_builtin(_call("send_message", recipient="b", content="", extra=1), ["b"])
    error = json.loads(out.output)
    assert not out.ok and out.action is None and error["ok"] is False
    fields = {p["field"] for p in error["problems"]}
    assert fields == {"content", "extra"}
    bad_json = ToolCallRequest(id="c", name="finish_turn", raw_arguments="{", error="bad JSON")
    assert "bad JSON" in json.loads(run_builtin(bad_json, []).output)["error"]


def test_disallowed_recipient():
    out = run_builtin(_call("send_message", recipient="eve", content="x"), ["b"])
    assert not out.ok and out.rejected_recipient == "eve"
    assert json.loads(out.output)["allowed_peers"] == ["b"]
