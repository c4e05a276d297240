"""An LLM-driven agent calls an MCP tool on a real stdio server, filtered by allowed_tools.

The federated-chat-mcp campaign gives each agent the example counter server
(examples/mcp/counter_tools.py) with only ``counter.increment`` allowed. The scripted
model calls it, reads the result in its next request, and sends the counter on.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from chia.agent.envelope import Envelope
from chia.agent.factory import lm_override, make_policy
from chia.agent.policy import SendMessage, TurnState
from chia.campaign import load_campaign
from chia.events import ToolCall, ToolResult
from chia.testing.openai_server import openai_server

SCRIPT = [
    {"tool_calls": [{"name": "counter__increment", "arguments": {"value": 4}}]},
    {"tool_calls": [{"name": "counter__reached", "arguments": {"value": 5, "target": 10}}]},
    {
        "tool_calls": [
            {
                "name": "send_message",
                "arguments": {"recipient": "agent-aurora", "content": "counter = 5"},
            },
            {"name": "finish_turn", "arguments": {}},
        ]
    },
]


class ListSink:
    def __init__(self):
        self.events = []

    def emit(self, kind, /, **fields):
        self.events.append((kind, fields))

    def add_tokens(self, tokens_in, tokens_out):
        pass


def _children() -> set[int]:
    """Live child processes of this test process (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


async def test_mcp_tool_over_stdio():
    loaded = load_campaign("federated-chat-mcp")
    agent = loaded.spec.agent("agent-crux")
    message = Envelope(
        run_id="r", sender="agent-aurora", recipient="agent-crux", content="counter = 4"
    )
    state = TurnState(
        agent="agent-crux", role=agent.role, mission=agent.mission, task="t", round=1,
        allowed_peers=agent.allowed_peers, new_messages=[message],
    )  # fmt: skip
    before = _children()
    with openai_server(SCRIPT) as server:
        lm = lm_override(loaded.spec.lm, "vllm:qwen3", base_url=server.url)
        policy = make_policy(
            loaded.spec, prompts=loaded.prompts, agent=agent, lm=lm, workdir=loaded.directory
        )
        sink = ListSink()
        policy.bind(sink)
        await policy.start()
        try:
            assert _children() - before, "the stdio MCP server was not started"
            actions = await policy.decide(state)
        finally:
            await policy.close()
        bodies = server.bodies()

    assert actions[0] == SendMessage(
        recipient="agent-aurora", content="counter = 5", tldr="counter = 5"
    )
    tools = {t["function"]["name"] for t in bodies[0]["tools"]}
    assert tools == {"send_message", "finish_turn", "submit_result", "counter__increment"}
    first = bodies[1]["messages"][-1]
    assert first["role"] == "tool" and json.loads(first["content"]) == {"ok": True, "output": "5"}
    refused = json.loads(bodies[2]["messages"][-1]["content"])
    assert refused["ok"] is False and "unknown tool 'counter__reached'" in refused["error"]

    calls = [f for kind, f in sink.events if kind is ToolCall]
    assert calls[0]["tool"] == "counter.increment" and calls[0]["arguments"] == {"value": 4}
    results = [f for kind, f in sink.events if kind is ToolResult]
    assert results[0]["ok"] is True

    deadline = time.monotonic() + 5  # stopped with the policy: nothing left running
    while _children() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _children() - before
