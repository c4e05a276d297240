"""`chia replay --continue-live` hands the calls from the first divergence on to a model.

federated-chat-mcp is recorded on one site against the fake OpenAI server; a copy with a
different mission for agent-crux is replayed with `--continue-live` naming a second fake
server. agent-aurora's turns still match the recording and are answered from it;
agent-crux's first prompt diverges, so that call and every later one of agent-crux go to
the live model (recorded again), and the campaign completes.
"""

from __future__ import annotations

import json
from typing import Any

from chia.testing.openai_server import openai_server
from chia.testing.replay import CRUX_MISSION, MCP_CAMPAIGN, edited_mcp_campaign, mcp_counter_script


def _crux_script() -> dict[str, Any]:
    """agent-crux's half of the game: it receives the odd counters and sends the even ones."""
    steps: list[dict[str, Any]] = []
    for counter in (2, 4, 6, 8, 10):
        text = f"counter = {counter}"
        increment = {"name": "counter__increment", "arguments": {"value": counter - 1}}
        send = {"name": "send_message", "arguments": {"recipient": "agent-aurora", "content": text}}
        end = {"name": "submit_result" if counter == 10 else "finish_turn", "arguments": {}}
        if counter == 10:
            end["arguments"] = {"result": text}
        steps += [{"tool_calls": [increment]}, {"tool_calls": [send, end]}]
    return {"responses": steps}


def _records(path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.open()]


def test_continue_live_after_the_divergence_completes_the_campaign(sites, chia, tmp_path):
    with openai_server(mcp_counter_script()) as server:
        site = sites.start(
            "--system", "local", "--campaign", MCP_CAMPAIGN, "--run-id", "rec-live",
            "--exchange", "local", "--site", "here", "--agents", "agent-aurora,agent-crux",
            "--model", "vllm:qwen3-8b", "--llm-base-url", server.url,
        )  # fmt: skip
        assert site.wait(timeout=120) == 0, site.output
    run = sites.runs_dir / "rec-live"

    edited = edited_mcp_campaign(tmp_path / "edited", CRUX_MISSION, "When you get the counter")
    with openai_server(_crux_script()) as live:
        result = chia(
            "replay", str(run), "--campaign", str(edited),
            "--continue-live", "vllm:live-model", "--llm-base-url", live.url, timeout=300,
        )  # fmt: skip
        asked = live.bodies()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output
    assert "diverged: agent-crux at round 1: message 1 (user) changed" in output
    assert "continuing live on vllm:live-model" in output
    assert "continued live from the divergence: every site finished" in output
    assert len(asked) == 10 and all(b["model"] == "live-model" for b in asked)

    replayed = sites.runs_dir / "rec-live-replay-1" / "here"
    crux = _records(replayed / "llm" / "agent-crux.jsonl")
    assert [r["source"] for r in crux] == ["live"] * 10
    assert crux[0]["identity"]["model"] == "live-model"
    aurora = _records(replayed / "llm" / "agent-aurora.jsonl")
    assert len(aurora) == 11 and {r["source"] for r in aurora} == {"replay"}
    for agent in ("agent-aurora", "agent-crux"):
        status = json.loads((replayed / "status" / f"{agent}.json").read_text())
        assert status["state"] == "finished" and status["result"] == "counter = 10"
