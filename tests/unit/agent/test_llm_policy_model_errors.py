"""What the LLM policy does with model errors, on a real provider against its fake server.

A 429 is waited out with a ``model_retry`` event and a landmark line; 401/403 and 402
stop the agent with a ``model_error`` event naming the provider and what to set; a
context too long trims the turn's history and tells the model, and stops the agent,
saying why, when nothing is left to trim.
"""

from __future__ import annotations

import json

import pytest

from chia.agent.envelope import Envelope
from chia.agent.llm_policy import TRIM_NOTE, LLMPolicy, ModelStoppedError
from chia.agent.policy import FinishTurn, TurnState
from chia.campaign import PromptProfile
from chia.events import ModelError, ModelRetry
from chia.llm import make_llm
from chia.testing.anthropic_server import anthropic_server

KEY = "sk-ant-policy-3c2b1a0f9e8d7c6b"
PROMPTS = PromptProfile(system_prompt="SYS", protocol_prompt="PROTO", recursion_limit=6)
TOO_LONG = {"status": 400, "error": "prompt is too long: 250000 tokens > 200000 maximum"}


class Sink:
    def __init__(self):
        self.events = []
        self.lines = []

    def emit(self, kind, /, **fields):
        self.events.append((kind, fields))

    def add_tokens(self, tokens_in, tokens_out):
        pass

    def landmark(self, line):
        self.lines.append(line)

    def of(self, kind):
        return [f for k, f in self.events if k is kind]


def _state():
    message = Envelope(run_id="r", sender="b", recipient="a", content="counter = 3", round=2)
    return TurnState(
        agent="a", role="player", mission="count", task="to 10", round=4, allowed_peers=["b"],
        new_messages=[message], peer_status={"b": "running"},
    )  # fmt: skip


@pytest.fixture
def policy_on(monkeypatch):
    monkeypatch.setenv("CHIA_POLICY_KEY", KEY)

    def make(server):
        llm = make_llm("anthropic", "claude-haiku-4-5", base_url=server.url,
                       api_key_env="CHIA_POLICY_KEY", retry_backoff_s=0.01)  # fmt: skip
        policy = LLMPolicy(llm, PROMPTS)
        sink = Sink()
        policy.bind(sink)
        return policy, sink

    return make


def _call(name, **arguments):
    return {"name": name, "arguments": arguments}


async def test_a_429_is_waited_out_with_an_event_and_a_landmark(policy_on):
    script = [{"status": 429, "error": "slow", "retry_after_s": 0.1},
              {"tool_calls": [_call("finish_turn")]}]  # fmt: skip
    with anthropic_server(script, api_key=KEY) as server:
        policy, sink = policy_on(server)
        actions = await policy.decide(_state())
    assert actions == [FinishTurn()] and policy.last_turn.reason == "finish_turn"
    [retry] = sink.of(ModelRetry)
    assert retry["provider"] == "anthropic" and retry["retry_after_s"] == 0.1
    assert sink.lines == [
        "model anthropic rate limited (HTTP 429): waiting 0.1 s as Retry-After says, retry 1 of 5"
    ]


@pytest.mark.parametrize(
    ("step", "what"),
    [
        ({"status": 401, "error": "invalid x-api-key"}, "credentials refused (HTTP 401)"),
        ({"status": 403, "error": "not allowed"}, "credentials refused (HTTP 403)"),
        ({"status": 402, "error": "payment required"}, "no quota left (HTTP 402)"),
    ],
)
async def test_auth_and_quota_errors_stop_the_agent_naming_what_to_do(policy_on, step, what):
    with anthropic_server([step, {"content": "never"}], api_key=KEY) as server:
        policy, sink = policy_on(server)
        with pytest.raises(ModelStoppedError) as info:
            await policy.decide(_state())
        assert len(server.requests) == 1
    assert str(info.value).startswith(f"model_error: anthropic {what}: ")
    [error] = sink.of(ModelError)
    assert error["action"] == "stopped_agent" and error["provider"] == "anthropic"
    if step["status"] != 402:
        assert error["hint"] == "set CHIA_POLICY_KEY to a valid Anthropic API key"
        assert "CHIA_POLICY_KEY" in str(info.value)
    else:
        assert "no quota or credit left" in error["hint"]


async def test_context_too_long_trims_the_turn_and_tells_the_model(policy_on):
    script = [
        {"tool_calls": [_call("send_message", recipient="b", content="one")]},
        {"tool_calls": [_call("send_message", recipient="b", content="two")]},
        TOO_LONG,
        {"tool_calls": [_call("finish_turn")]},
    ]
    with anthropic_server(script, api_key=KEY) as server:
        policy, sink = policy_on(server)
        actions = await policy.decide(_state())
        bodies = server.bodies()
    assert [a.action for a in actions] == ["send_message", "send_message", "finish_turn"]
    before, after = bodies[2]["messages"], bodies[3]["messages"]
    assert len(after) < len(before)
    text = json.dumps(after)
    assert TRIM_NOTE in text and "1 earlier tool exchange(s)" in text
    assert '"one"' not in text and '"two"' in text  # the oldest exchange went
    [error] = sink.of(ModelError)
    assert error["action"] == "trimmed_history" and error["error_kind"] == "context_length"
    assert sink.lines == ["model anthropic: context too long; history trimmed"]


async def test_context_too_long_with_nothing_to_trim_stops_saying_why(policy_on):
    with anthropic_server([TOO_LONG, TOO_LONG], api_key=KEY) as server:
        policy, sink = policy_on(server)
        with pytest.raises(ModelStoppedError, match="too long even with its history trimmed"):
            await policy.decide(_state())
    assert [e["action"] for e in sink.of(ModelError)] == ["stopped_agent"]


async def test_other_errors_end_the_turn(policy_on):
    with anthropic_server([{"status": 400, "error": "bad tool schema"}], api_key=KEY) as server:
        policy, sink = policy_on(server)
        actions = await policy.decide(_state())
    assert actions == [FinishTurn(reason="model_error")]
    assert [e["action"] for e in sink.of(ModelError)] == ["ended_turn"]
