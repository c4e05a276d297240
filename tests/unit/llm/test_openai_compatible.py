"""The openai_compatible provider against the fake server: the real langchain HTTP path."""

import pytest

from chia.llm import ChatMessage, LLMCallError, ToolSpec, make_llm
from chia.testing.openai_server import openai_server

KEY = "sk-unit-abcdef0123456789"
TOOL = ToolSpec(name="lookup", description="Look up.", parameters={"type": "object"})


@pytest.fixture
def key(monkeypatch):
    monkeypatch.setenv("UNIT_KEY", KEY)
    return "UNIT_KEY"


@pytest.mark.parametrize("model", ["gpt-5-mini", "gpt5mini", "o1-mini", "o3", "gpto3mini"])
async def test_reasoning_models_get_no_sampling_knobs(key, model):
    with openai_server([{"content": "ok"}], api_key=KEY) as server:
        llm = make_llm(
            "openai_compatible", model, base_url=server.url, api_key_env=key,
            temperature=0.3, top_p=0.5, max_tokens=64,
        )  # fmt: skip
        reply = await llm.complete([ChatMessage.system("s"), ChatMessage.user("u")])
        body = server.bodies()[0]
    assert reply.content == "ok"
    assert "temperature" not in body and "top_p" not in body
    assert body["max_completion_tokens"] == 64


async def test_chat_models_keep_temperature_and_send_user(key):
    with openai_server([{"content": "ok"}], api_key=KEY) as server:
        llm = make_llm(
            "argo", "gpt4o", base_url=server.url, api_key_env=key, temperature=0.2, user="alice"
        )
        await llm.complete([ChatMessage.user("u")])
        body = server.bodies()[0]
    assert body["temperature"] == 0.2 and body["user"] == "alice"
    assert body["messages"] == [{"role": "user", "content": "u"}]


async def test_tool_calls_usage_and_tool_results_round_trip(key):
    script = [
        {
            "tool_calls": [{"name": "lookup", "arguments": {"q": "x"}, "id": "c1"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 4},
        },
        {"content": "done", "usage": {"prompt_tokens": 20, "completion_tokens": 2}},
    ]
    with openai_server(script, api_key=KEY) as server:
        llm = make_llm("openai_compatible", "gpt-4o", base_url=server.url, api_key_env=key)
        messages = [ChatMessage.user("find x")]
        first = await llm.complete(messages, [TOOL])
        messages += [first.as_message(), ChatMessage.tool("c1", '{"ok": true}')]
        second = await llm.complete(messages, [TOOL])
        bodies = server.bodies()
    assert first.tool_calls[0].name == "lookup" and first.tool_calls[0].arguments == {"q": "x"}
    assert (first.tokens_in, first.tokens_out) == (11, 4) and first.latency_s > 0
    assert second.content == "done"
    assert bodies[0]["tools"] == [TOOL.openai_schema()]
    assistant, tool = bodies[1]["messages"][1:]
    assert assistant["tool_calls"][0]["function"] == {"name": "lookup", "arguments": '{"q": "x"}'}
    assert tool == {"role": "tool", "content": '{"ok": true}', "tool_call_id": "c1"}


async def test_errors_are_redacted(key):
    with openai_server([{"status": 400, "error": f"bad key {KEY}"}]) as server:
        llm = make_llm("openai_compatible", "gpt-4o", base_url=server.url, api_key_env=key)
        with pytest.raises(LLMCallError) as info:
            await llm.complete([ChatMessage.user("u")])
    assert "400" in str(info.value) and KEY not in str(info.value)


def test_no_key_configured_never_sends_openai_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    with openai_server([{"content": "ok"}], api_key="not-needed") as server:
        llm = make_llm("vllm", "qwen3", base_url=server.url)
        assert llm.prompt("hi").result == "ok"  # 401 if the OpenAI key had been sent


def test_prompt_runs_python_tools(key):
    def double(n):
        """Double a number."""
        return int(n) * 2

    script = [
        {"tool_calls": [{"name": "double", "arguments": {"n": "21"}}]},
        {"content": "42"},
    ]
    with openai_server(script, api_key=KEY) as server:
        llm = make_llm("openai", "gpt-4o", base_url=server.url, api_key_env=key)
        result = llm.prompt("double 21", tools=[double])
        tool_reply = server.bodies()[1]["messages"][-1]
    assert result.success and result.result == "42"
    assert tool_reply["content"] == '{"ok": true, "output": "42"}'


def test_prompt_failure_is_a_result(key):
    with openai_server([{"status": 400, "error": "nope"}]) as server:
        llm = make_llm("openai", "gpt-4o", base_url=server.url, api_key_env=key, max_retries=0)
        result = llm.prompt("hi")
    assert not result.success and result.returncode == 1 and "nope" in result.stderr
