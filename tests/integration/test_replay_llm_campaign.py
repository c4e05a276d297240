"""`chia replay` re-runs a recorded LLM campaign with the model server stopped and no key.

federated-chat-mcp plays on two sites against `chia llm fake-server` (key required),
recording every model call. Then the server is stopped and the key unset, and `chia
replay` runs the campaign again from the records: the replayed run's messages,
decisions, tool calls and results equal the original's, agent by agent, and its model
calls carry the same request digests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from chia.site.replay_compare import agent_sequences
from chia.testing.replay import (
    KEY,
    KEY_VAR,
    fake_model_server,
    mcp_counter_script,
    record_mcp_campaign,
)


def _calls(run: Path, agent: str) -> list[dict]:
    events = [json.loads(x) for x in next(run.glob(f"*/events/{agent}.jsonl")).open()]
    return [e for e in events if e["kind"] == "llm_call"]


def test_replay_with_the_server_stopped_repeats_the_campaign(
    sites, chia, http_server, tmp_path, monkeypatch
):
    monkeypatch.setenv(KEY_VAR, KEY)
    exchange = ["--exchange", "http", "--exchange-url", http_server.url]
    with fake_model_server(tmp_path, mcp_counter_script()) as server:
        started = record_mcp_campaign(sites, server, exchange, "rec-mcp")
        for site in started.values():
            assert site.wait(5) == 0, site.output
        assert len(server.requests()) == 21
    assert server.proc.poll() is not None  # stopped: nothing answers on its port any more

    run = sites.runs_dir / "rec-mcp"
    for agent in ("agent-aurora", "agent-crux"):
        records = [json.loads(x) for x in next(run.glob(f"*/llm/{agent}.jsonl")).open()]
        calls = _calls(run, agent)
        assert len(records) == len(calls) >= 10
        assert [c["request_digest"] for c in calls] == [r["digest"] for r in records]

    env = {k: v for k, v in os.environ.items() if k != KEY_VAR}
    result = chia("replay", str(run), env=env, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "matched:" in output and "Traceback" not in output
    replayed = sites.runs_dir / "rec-mcp-replay-1"
    assert f"replayed run rec-mcp-replay-1: {replayed}" in output

    original, again = agent_sequences(run), agent_sequences(replayed)
    assert set(original) == {"agent-aurora", "agent-crux"}
    assert again == original
    kinds = {s[0] for sequence in original.values() for s in sequence}
    assert {"message_sent", "message_received", "decision", "tool_call", "tool_result"} <= kinds
    for agent in original:
        before, after = _calls(run, agent), _calls(replayed, agent)
        assert [c["request_digest"] for c in after] == [c["request_digest"] for c in before]
        assert all(c["provider"] == "replay" for c in after)
    for agent, site in (("agent-aurora", "aurora"), ("agent-crux", "crux")):
        status = json.loads((replayed / site / "status" / f"{agent}.json").read_text())
        assert status["state"] == "finished" and status["result"] == "counter = 10"
        assert status["tokens_in"] > 0  # recorded token counts, replayed
    for root in (run, replayed):
        for path in root.rglob("*"):
            if path.is_file():
                assert KEY.encode() not in path.read_bytes(), f"API key in {path}"
