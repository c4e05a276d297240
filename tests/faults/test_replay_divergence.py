"""A replay against an edited prompt reports the first divergence (agent, round) and exits 1.

federated-chat-mcp is recorded on one site against the fake OpenAI server. A copy of the
campaign then gets a different mission for agent-crux, and `chia replay --campaign
<copy>` runs it from the records: agent-aurora's first turn still matches, agent-crux's
first prompt does not, so the replay names agent-crux and round 1, shows which message
changed, and stops the run (exit 1) without waiting for anyone to idle out.
"""

from __future__ import annotations

import json

from chia.testing.openai_server import openai_server
from chia.testing.replay import CRUX_MISSION, MCP_CAMPAIGN, edited_mcp_campaign, mcp_counter_script

EDIT = "When agent-aurora sends you the counter, add one"


def test_replay_of_an_edited_prompt_names_agent_and_round(sites, chia, tmp_path):
    with openai_server(mcp_counter_script()) as server:
        site = sites.start(
            "--system", "local", "--campaign", MCP_CAMPAIGN, "--run-id", "rec-div",
            "--exchange", "local", "--site", "here", "--agents", "agent-aurora,agent-crux",
            "--model", "vllm:qwen3-8b", "--llm-base-url", server.url,
        )  # fmt: skip
        assert site.wait(timeout=120) == 0, site.output
    run = sites.runs_dir / "rec-div"

    edited = edited_mcp_campaign(tmp_path / "edited", CRUX_MISSION, EDIT)
    result = chia("replay", str(run), "--campaign", str(edited), timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output, output
    assert "diverged: agent-crux at round 1: message 1 (user) changed" in output, output
    assert "agent-crux: replay diverged at round 1 (message 1 (user) changed): stopping" in output
    assert "did not match the recording" in output

    replayed = sites.runs_dir / "rec-div-replay-1" / "here"
    events = [json.loads(x) for x in (replayed / "events" / "agent-crux.jsonl").open()]
    (diverged,) = [e for e in events if e["kind"] == "replay_diverged"]
    assert diverged["round"] == 1 and diverged["request_digest"].startswith("sha256:")
    assert "-" in diverged["diff"] and "add one" in diverged["diff"]
    assert len(diverged["diff"].splitlines()) <= 30
    failed = [e for e in events if e["kind"] == "agent_failed"]
    assert failed and "diverged at round 1" in failed[-1]["error"]
    aurora = [json.loads(x) for x in (replayed / "events" / "agent-aurora.jsonl").open()]
    assert any(e["kind"] == "llm_call" for e in aurora)  # its first turn matched
    assert not any(e["kind"] == "replay_diverged" for e in aurora)
