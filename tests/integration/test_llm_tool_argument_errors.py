"""A model's bad tool calls come back to it as structured tool results, and it recovers.

The fake OpenAI server scripts a turn in which the model first sends malformed JSON and
a send_message without content, then messages a peer it may not reach, and finally gets
it right. Each refusal is a tool message the model reads in its next request.
"""

from __future__ import annotations

import json

from chia.agent.envelope import Envelope
from chia.agent.llm_policy import LLMPolicy
from chia.agent.policy import FinishTurn, SendMessage, TurnState
from chia.campaign import PromptProfile
from chia.events import MessageRejected, ToolResult
from chia.llm import make_llm
from chia.testing.openai_server import openai_server

SCRIPT = [
    {
        "tool_calls": [
            {"name": "send_message", "arguments": '{"recipient": "agent-crux", "content": '},
            {"name": "send_message", "arguments": {"recipient": "agent-crux"}},
        ]
    },
    {
        "tool_calls": [
            {"name": "send_message", "arguments": {"recipient": "mallory", "content": "hi"}}
        ]
    },
    {
        "tool_calls": [
            {
                "name": "send_message",
                "arguments": {"recipient": "agent-crux", "content": "counter = 1"},
            },
            {"name": "finish_turn", "arguments": {"reason": "sent"}},
        ]
    },
]


class ListSink:
    def __init__(self):
        self.events = []
        self.tokens = [0, 0]

    def emit(self, kind, /, **fields):
        self.events.append((kind, fields))

    def add_tokens(self, tokens_in, tokens_out):
        self.tokens[0] += tokens_in
        self.tokens[1] += tokens_out


def _state() -> TurnState:
    kickoff = Envelope(
        run_id="r", sender="campaign", recipient="agent-aurora", kind="kickoff", content="go"
    )
    return TurnState(
        agent="agent-aurora", role="starter", mission="start at 1", task="count to 10",
        round=1, allowed_peers=["agent-crux"], new_messages=[kickoff],
    )  # fmt: skip


async def test_bad_arguments_and_recipients_are_tool_results(monkeypatch):
    monkeypatch.setenv("FAKE_KEY", "sk-fake-0123456789abcdef")
    prompts = PromptProfile(system_prompt="sys", protocol_prompt="proto", recursion_limit=5)
    with openai_server(SCRIPT, api_key="sk-fake-0123456789abcdef") as server:
        model = make_llm("openai", "gpt-4.1-mini", base_url=server.url, api_key_env="FAKE_KEY")
        policy = LLMPolicy(model, prompts)
        sink = ListSink()
        policy.bind(sink)
        actions = await policy.decide(_state())
        bodies = server.bodies()

    assert actions == [
        SendMessage(recipient="agent-crux", content="counter = 1", tldr="counter = 1"),
        FinishTurn(reason="sent"),
    ]
    assert policy.last_turn.reason == "finish_turn" and policy.last_turn.calls == 3
    assert len(bodies) == 3

    assistant = next(m for m in bodies[1]["messages"] if m["role"] == "assistant")
    sent = {c["id"]: c["function"]["arguments"] for c in assistant["tool_calls"]}
    replies = {
        sent[m["tool_call_id"]]: json.loads(m["content"])
        for m in bodies[1]["messages"]
        if m["role"] == "tool"
    }
    assert len(replies) == 2  # every call answered, under its own id
    bad_json = replies['{"recipient": "agent-crux", "content": ']
    missing = replies['{"recipient": "agent-crux"}']
    assert bad_json["ok"] is False and "not valid JSON" in bad_json["error"]
    assert missing["ok"] is False and missing["error"] == "invalid arguments for send_message"
    assert {"field": "content", "problem": "Field required"} in missing["problems"]

    refused = json.loads(bodies[2]["messages"][-1]["content"])
    assert (
        refused["ok"] is False and "'mallory' is not one of your allowed peers" in refused["error"]
    )
    assert refused["allowed_peers"] == ["agent-crux"]

    results = [f for kind, f in sink.events if kind is ToolResult]
    assert [r["ok"] for r in results] == [False, False, False, True, True]
    rejected = [f for kind, f in sink.events if kind is MessageRejected]
    assert [r["recipient"] for r in rejected] == ["mallory"]
