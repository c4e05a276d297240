"""LLMPolicy turn rules, driven by the offline scripted model (no network)."""

import json

import pytest

from chia.agent.envelope import Envelope
from chia.agent.llm_policy import LLMPolicy
from chia.agent.policy import (
    FinishTurn,
    ManagedPolicy,
    ObservedPolicy,
    SendMessage,
    SubmitResult,
    TurnState,
)
from chia.campaign import PromptProfile
from chia.events import LLMCall, ToolCall, ToolResult
from chia.llm import Script
from chia.llm.scripted import ScriptedLLM

PROMPTS = PromptProfile(system_prompt="SYS", protocol_prompt="PROTO", recursion_limit=3)


class Sink:
    def __init__(self):
        self.events = []
        self.tokens = [0, 0]

    def emit(self, kind, /, **fields):
        self.events.append((kind, fields))

    def add_tokens(self, tokens_in, tokens_out):
        self.tokens = [self.tokens[0] + tokens_in, self.tokens[1] + tokens_out]

    def of(self, kind):
        return [f for k, f in self.events if k is kind]


def _state(**changes):
    message = Envelope(run_id="r", sender="b", recipient="a", content="counter = 3", round=2)
    fields = dict(
        agent="a", role="player", mission="count", task="to 10", round=4, allowed_peers=["b"],
        new_messages=[message], peer_status={"b": "running"},
    )  # fmt: skip
    fields.update(changes)
    return TurnState(**fields)


def _policy(steps, prompts=PROMPTS):
    llm = ScriptedLLM(script=Script.parse(steps), model="m")
    policy = LLMPolicy(llm, prompts)
    sink = Sink()
    policy.bind(sink)
    return policy, sink, llm


def _send(content, to="b"):
    return {"name": "send_message", "arguments": {"recipient": to, "content": content}}


def test_implements_the_optional_protocols():
    policy, _, _ = _policy([])
    assert isinstance(policy, ObservedPolicy) and isinstance(policy, ManagedPolicy)
    assert policy.name == "llm:scripted:m"
    assert [t.name for t in policy.tools] == ["send_message", "finish_turn", "submit_result"]


def test_messages_are_chat_messages_with_json_state():
    policy, _, _ = _policy([])
    system, user = policy.messages(_state())
    assert system.role == "system" and system.content == "SYS\n\nPROTO"
    state = json.loads(user.content)
    assert state["round"] == 4 and state["peer_status"] == {"b": "running"}
    assert state["new_messages"][0]["content"] == "counter = 3"


async def test_finish_turn_ends_the_turn():
    policy, sink, _ = _policy([{"tool_calls": [_send("counter = 4"), {"name": "finish_turn"}]}])
    actions = await policy.decide(_state())
    assert actions == [SendMessage(recipient="b", content="counter = 4", tldr="counter = 4"),
                       FinishTurn()]  # fmt: skip
    assert policy.last_turn.reason == "finish_turn" and policy.last_turn.calls == 1
    assert [c["tool"] for c in sink.of(ToolCall)] == ["send_message", "finish_turn"]
    assert all(r["ok"] for r in sink.of(ToolResult))


async def test_submit_result_ends_the_turn_and_later_calls_are_not_run():
    step = {"tool_calls": [{"name": "submit_result", "arguments": {"result": "10"}}, _send("x")]}
    policy, sink, _ = _policy([step])
    actions = await policy.decide(_state())
    assert actions == [SubmitResult(result="10")]
    assert policy.last_turn.reason == "submit_result"
    assert [r["ok"] for r in sink.of(ToolResult)] == [True, False]


async def test_no_tool_call_ends_the_turn():
    policy, _, _ = _policy([{"content": "I am thinking"}])
    actions = await policy.decide(_state())
    assert actions == [FinishTurn(reason="no_tool_call")]


async def test_repeated_identical_call_ends_the_turn():
    policy, sink, _ = _policy([{"tool_calls": [_send("hi")]}, {"tool_calls": [_send("hi")]}])
    actions = await policy.decide(_state())
    assert actions == [SendMessage(recipient="b", content="hi", tldr="hi"),
                       FinishTurn(reason="repeated_call")]  # fmt: skip
    assert "repeated identical call" in sink.of(ToolResult)[-1]["output"]


async def test_recursion_limit_ends_the_turn():
    steps = [{"tool_calls": [_send(f"m{i}")]} for i in range(5)]
    policy, _, _ = _policy(steps)
    actions = await policy.decide(_state())
    assert len(actions) == 4 and actions[-1] == FinishTurn(reason="recursion_limit")
    assert policy.last_turn.calls == PROMPTS.recursion_limit


async def test_model_error_is_an_event_not_an_exception():
    policy, sink, _ = _policy([{"status": 500, "error": "down"}])
    actions = await policy.decide(_state())
    assert actions == [FinishTurn(reason="model_error")]
    (call,) = sink.of(LLMCall)
    assert call["success"] is False and "down" in call["error"]


async def test_tokens_and_latency_are_recorded():
    step = {
        "tool_calls": [{"name": "finish_turn"}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3},
    }
    policy, sink, _ = _policy([step, step])
    await policy.decide(_state())
    await policy.decide(_state())
    assert sink.tokens == [14, 6]
    call = sink.of(LLMCall)[0]
    assert (call["provider"], call["model"], call["tokens_in"]) == ("scripted", "m", 7)


async def test_unknown_tool_and_disallowed_recipient_are_tool_results():
    steps = [{"tool_calls": [{"name": "launch_missiles"}, _send("psst", to="eve")]},
             {"tool_calls": [{"name": "finish_turn"}]}]  # fmt: skip
    policy, sink, _ = _policy(steps)
    actions = await policy.decide(_state())
    assert actions == [FinishTurn()]
    unknown, refused = (json.loads(r["output"]) for r in sink.of(ToolResult)[:2])
    assert (
        unknown["error"] == "unknown tool 'launch_missiles'"
        and "send_message" in unknown["available"]
    )
    assert refused["allowed_peers"] == ["b"]


async def test_recent_actions_carry_into_the_next_turn():
    policy, _, _ = _policy([{"tool_calls": [_send("counter = 4"), {"name": "finish_turn"}]}])
    await policy.decide(_state())
    state = json.loads(policy.messages(_state())[1].content)
    assert [a["action"] for a in state["recent_actions"]] == ["send_message", "finish_turn"]
    assert state["recent_actions"][0]["recipient"] == "b"


@pytest.mark.parametrize("limit", [1, 2])
async def test_recursion_limit_comes_from_the_profile(limit):
    prompts = PromptProfile(system_prompt="s", protocol_prompt="p", recursion_limit=limit)
    policy, _, _ = _policy([{"tool_calls": [_send(f"m{i}")]} for i in range(5)], prompts)
    await policy.decide(_state())
    assert policy.last_turn.calls == limit


async def test_recent_actions_clip_long_content():
    policy, _, _ = _policy([{"tool_calls": [_send("y" * 1000), {"name": "finish_turn"}]}])
    await policy.decide(_state())
    sent = json.loads(policy.messages(_state())[1].content)["recent_actions"][0]
    assert sent["content"] == "y" * 300 + "..."
