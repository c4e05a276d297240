import pytest

from chia.base.llm_call import LLMCallBase
from chia.llm import ChatMessage, LLMCallError, Script, make_llm
from chia.llm.errors import LLMConfigError
from chia.llm.scripted import ScriptedLLM


def test_counter_game_without_script():
    llm = make_llm("scripted", "scripted", system_message="play")
    assert isinstance(llm, LLMCallBase)
    assert llm.prompt("kickoff").result == "counter = 1"
    answer = llm.prompt("peer says counter = 4")
    assert answer.success and answer.returncode == 0 and answer.result == "counter = 5"
    assert '"role":"assistant"' in answer.stream_result
    assert ScriptedLLM(target=3).prompt("counter = 7").result == "counter = 3"


def test_message_needs_counter_slot():
    with pytest.raises(LLMConfigError, match="must contain"):
        ScriptedLLM(message="no slot")


async def test_script_replays_tool_calls_and_errors():
    script = Script.parse(
        [
            {"tool_calls": [{"name": "t", "arguments": {"x": 1}}], "usage": {"prompt_tokens": 3}},
            {"status": 503, "error": "busy"},
        ]
    )
    llm = ScriptedLLM(script=script, model="m")
    reply = await llm.complete([ChatMessage.user("u")])
    assert reply.tool_calls[0].arguments == {"x": 1} and reply.tokens_in == 3
    with pytest.raises(LLMCallError, match="HTTP 503: busy"):
        await llm.complete([ChatMessage.user("u")])
    with pytest.raises(LLMCallError, match="ran out"):
        await llm.complete([ChatMessage.user("u")])


def test_prompt_reports_failures_as_results():
    llm = make_llm("scripted", "s", script=[{"status": 500, "error": "down"}])
    result = llm.prompt("hi")
    assert not result.success and result.returncode == 1 and "down" in result.stderr


async def test_prompt_works_inside_a_running_event_loop():
    llm = make_llm("scripted", "s", script=[{"content": "fine", "delay_s": 0.01}])
    assert llm.prompt("hi").result == "fine"
