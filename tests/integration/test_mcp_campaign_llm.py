"""federated-chat-mcp on one site: the model counts with the example MCP server's tool.

Both agents run in one host process on the local exchange; each starts its own stdio
copy of examples/mcp/counter_tools.py. Every turn the scripted model calls
counter__increment, reads the result, and sends it on; the servers stop with the agents.
"""

from __future__ import annotations

import json

from chia.testing.openai_server import openai_server

PEER = {"agent-aurora": "agent-crux", "agent-crux": "agent-aurora"}


def _script() -> dict:
    steps = []
    for counter in range(1, 11):
        sender = "agent-aurora" if counter % 2 else "agent-crux"
        text = f"counter = {counter}"
        increment = {"name": "counter__increment", "arguments": {"value": counter - 1}}
        send = {"name": "send_message", "arguments": {"recipient": PEER[sender], "content": text}}
        end = {"name": "submit_result", "arguments": {"result": text}}
        if counter < 10:
            end = {"name": "finish_turn", "arguments": {}}
        steps += [{"tool_calls": [increment]}, {"tool_calls": [send, end]}]
    steps.append(
        {"tool_calls": [{"name": "submit_result", "arguments": {"result": "counter = 10"}}]}
    )
    return {"responses": steps, "default": {"tool_calls": [{"name": "finish_turn"}]}}


def test_mcp_campaign_on_the_llm_policy(sites):
    with openai_server(_script()) as server:
        site = sites.start(
            "--system", "local", "--campaign", "federated-chat-mcp", "--run-id", "mcp-1",
            "--exchange", "local", "--site", "here", "--agents", "agent-aurora,agent-crux",
            "--model", "vllm:qwen3-8b", "--llm-base-url", server.url,
        )  # fmt: skip
        assert site.wait(timeout=120) == 0, site.output
        bodies = server.bodies()

    assert len(bodies) == 21
    tools = {t["function"]["name"] for t in bodies[0]["tools"]}
    assert "counter__increment" in tools and "counter__reached" not in tools
    results = [
        json.loads(m["content"])
        for body in bodies
        for m in body["messages"]
        if m["role"] == "tool" and '"output"' in m["content"]
    ]
    assert {"ok": True, "output": "10"} in results  # 9 + 1, computed by the MCP server

    run = sites.runs_dir / "mcp-1" / "here"
    for agent in PEER:
        status = json.loads((run / "status" / f"{agent}.json").read_text())
        assert status["state"] == "finished" and status["result"] == "counter = 10"
        events = [json.loads(x) for x in (run / "events" / f"{agent}.jsonl").open()]
        mcp = [e for e in events if e["kind"] == "tool_result" and e["tool"] == "counter.increment"]
        assert mcp and all(e["ok"] for e in mcp)
