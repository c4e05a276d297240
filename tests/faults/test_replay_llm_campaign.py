"""Replay of a recorded LLM campaign, with the model server stopped and the key unset.

federated-chat-mcp plays on two sites against `chia llm fake-server` (our OpenAI-compatible
server, key required) over the self-hosted exchange, recording every model call. The
server is then stopped and the key removed from the environment, and `chia replay`
re-runs the campaign from the records: each agent's sequence of messages, decisions,
tool calls and results (kinds, senders, recipients, contents) is identical.
"""

from __future__ import annotations

import os

import pytest

from chia.site.replay_compare import agent_sequences
from chia.testing.replay import (
    KEY,
    KEY_VAR,
    fake_model_server,
    mcp_counter_script,
    record_mcp_campaign,
)


@pytest.mark.parametrize("exchange", ["http"], indirect=True)
def test_replayed_llm_campaign_repeats_its_events(
    sites, chia, exchange, fault_table, tmp_path, monkeypatch
):
    monkeypatch.setenv(KEY_VAR, KEY)
    with fake_model_server(tmp_path, mcp_counter_script()) as server:
        started = record_mcp_campaign(sites, server, exchange.args, "replay-llm")
        for site in started.values():
            assert site.wait(5) == 0, site.output
    assert server.proc.poll() is not None
    monkeypatch.delenv(KEY_VAR)

    recorded = sites.runs_dir / "replay-llm"
    env = {k: v for k, v in os.environ.items() if k != KEY_VAR}
    result = chia("replay", str(recorded), env=env, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "matched:" in output and "Traceback" not in output

    replayed = sites.runs_dir / "replay-llm-replay-1"
    original = agent_sequences(recorded)
    assert sum(len(s) for s in original.values()) > 50
    assert agent_sequences(replayed) == original
    figures = fault_table.record(
        "replay of a recorded LLM campaign, model server stopped", "local", "http", replayed
    )
    assert figures.lost == 0 and figures.duplicates_decided == 0
