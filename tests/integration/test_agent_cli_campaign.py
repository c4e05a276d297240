"""A campaign whose agents are agent CLIs, run with ``chia spawn-site`` as a user would.

Stand-in ``claude`` and ``codex`` executables (chia.testing.agent_cli_standin) are first on
PATH. The campaign's ``lm`` is ``claude-code`` (model sonnet); agent-crux overrides it
with ``codex``. Aurora is woken by the kickoff and messages crux over its MCP endpoint;
crux answers; aurora, woken again in the session it resumes, submits the result. A
campaign naming a CLI that is not on PATH is exit 2 before anything starts. (A host
SIGKILLed between turns resuming its CLI session: tests/faults/test_agent_cli_restart.py.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import run_chia

from chia.testing.agent_cli_standin import (
    PING_PONG_SCRIPT,
    install_standins,
    ping_pong_campaign,
    records,
)

RUN = "cli-1"


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_two_cli_agents_exchange_a_message_and_submit(sites, tmp_path):
    bin_dir = install_standins(tmp_path / "bin")
    record, script = tmp_path / "record", tmp_path / "script.json"
    script.write_text(json.dumps(PING_PONG_SCRIPT))
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "STANDIN_RECORD": str(record),
        "STANDIN_SCRIPT": str(script),
    }
    site = sites.start(
        "--system", "local", "--campaign", str(ping_pong_campaign(tmp_path)), "--run-id", RUN,
        "--exchange", "local", "--site", "here", "--agents", "agent-aurora, agent-crux",
        env=env,
    )  # fmt: skip
    assert site.wait(timeout=120) == 0, site.output
    assert "policy cli:claude-code:sonnet" in site.output
    assert "policy cli:codex:default" in site.output

    here = sites.runs_dir / RUN / "here"
    status = json.loads((here / "status" / "agent-aurora.json").read_text())
    assert status["result"] == "crux said: pong to ping"

    first, second = records(record, "agent-aurora")
    assert first["resumed"] is None and second["resumed"] == first["session"]
    assert second["argv"][second["argv"].index("--resume") + 1] == first["session"]
    assert first["cwd"] == second["cwd"] == str(here / "agent_cli" / "agent-aurora")
    (crux_run,) = records(record, "agent-crux")
    assert crux_run["argv"][:2] == ["exec", "--json"] and "mcp_servers.chia.url" in " ".join(
        crux_run["argv"]
    )
    saved = json.loads((here / "agent_cli" / "agent-aurora.json").read_text())
    assert saved == {"provider": "claude-code", "session": first["session"]}

    aurora = _events(here / "events" / "agent-aurora.jsonl")
    calls = [e for e in aurora if e["kind"] == "tool_call"]
    assert [c["tool"] for c in calls] == ["send_message", "finish_turn", "submit_result"]
    assert calls[0]["arguments"] == {"recipient": "agent-crux", "content": "ping"}
    llm = [e for e in aurora if e["kind"] == "llm_call"]
    assert [(c["provider"], c["model"], c["success"]) for c in llm] == [
        ("claude-code", "sonnet", True), ("claude-code", "sonnet", True),
    ]  # fmt: skip
    assert all(c["tokens_in"] == 120 and c["cost_usd"] == 0.0125 for c in llm)
    crux = _events(here / "events" / "agent-crux.jsonl")
    assert [e["provider"] for e in crux if e["kind"] == "llm_call"] == ["codex"]
    sent = [e for e in crux if e["kind"] == "message_sent" and e["recipient"] == "agent-aurora"]
    assert [e["content"] for e in sent] == ["pong to ping"]

    replay = run_chia(
        "spawn-site", "--system", "local", "--campaign", str(tmp_path / "cli-chat"),
        "--run-id", "cli-1-replay", "--runs-dir", str(sites.runs_dir), "--exchange", "local",
        "--site", "here", "--agents", "agent-aurora, agent-crux", "--replay", str(here),
        env=env,
    )  # fmt: skip
    assert replay.returncode == 2, replay.stderr
    assert "agent 'agent-aurora' runs the agent CLI 'claude-code'" in replay.stderr
    assert "cannot replay" in replay.stderr


def test_a_cli_not_on_path_is_exit_2_naming_it(chia, tmp_path):
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin")}
    result = chia(
        "spawn-site", "--system", "local", "--campaign", str(ping_pong_campaign(tmp_path)),
        "--run-id", RUN, "--runs-dir", str(tmp_path / "runs"), "--exchange", "local",
        "--site", "here", "--agents", "agent-aurora, agent-crux",
        env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "'claude-code' runs the 'claude' executable" in result.stderr
    assert "not on PATH" in result.stderr
    assert not (tmp_path / "runs" / RUN / "here" / "events").exists()


def test_an_agents_own_cli_not_on_path_names_the_agent(chia, tmp_path):
    bin_dir = tmp_path / "only-claude"
    install_standins(bin_dir)
    (bin_dir / "codex").unlink()
    env = {**os.environ, "PATH": str(bin_dir)}
    result = chia(
        "spawn-site", "--system", "local", "--campaign", str(ping_pong_campaign(tmp_path)),
        "--run-id", RUN, "--runs-dir", str(tmp_path / "runs"), "--exchange", "local",
        "--site", "here", "--agents", "agent-crux",
        env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "agent 'agent-crux': lm provider 'codex' runs the 'codex' executable" in result.stderr
