"""A campaign whose agents are agent CLIs, run with ``chia spawn-site`` as a user would.

Stand-in ``claude`` and ``codex`` executables (chia.testing.agent_cli_standin) are first on
PATH. The campaign's ``lm`` is ``claude-code`` (model sonnet); agent-crux overrides it
with ``codex``. Aurora is woken by the kickoff and messages crux over its MCP endpoint;
crux answers; aurora, woken again in the session it resumes, submits the result. On two
sites, aurora's host is SIGKILLed between its turns: the restarted agent resumes the same
CLI session. A campaign naming a CLI that is not on PATH is exit 2 before anything starts.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from tests.conftest import run_chia

from chia.testing.agent_cli_standin import install_standins, records
from chia.testing.campaigns import write_campaign_dir

RUN = "cli-1"
AGENTS = [
    {"name": "agent-aurora", "role": "asker", "mission": "ask crux, then submit its answer",
     "allowed_peers": ["agent-crux"]},
    {"name": "agent-crux", "role": "answerer", "mission": "answer aurora",
     "allowed_peers": ["agent-aurora"], "lm": {"provider": "codex"}},
]  # fmt: skip
SCRIPT = {
    "agent-aurora": [
        [
            {"tool": "send_message", "arguments": {"recipient": "agent-crux", "content": "ping"}},
            {"tool": "finish_turn", "arguments": {"reason": "asked"}},
        ],
        [{"tool": "submit_result", "arguments": {"result": "crux said: {last_message}"}}],
    ],
    "agent-crux": [
        [
            {
                "tool": "send_message",
                "arguments": {"recipient": "agent-aurora", "content": "pong to {last_message}"},
            },
            {"tool": "finish_turn"},
        ],
    ],
}


def _campaign(tmp_path: Path) -> Path:
    return write_campaign_dir(
        tmp_path,
        "cli-chat",
        AGENTS,
        user_task="ping-pong",
        lm={"provider": "claude-code", "model": "sonnet", "timeout_s": 60},
        limits={"idle_timeout_s": 60},
    )


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_two_cli_agents_exchange_a_message_and_submit(sites, tmp_path):
    bin_dir = install_standins(tmp_path / "bin")
    record, script = tmp_path / "record", tmp_path / "script.json"
    script.write_text(json.dumps(SCRIPT))
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "STANDIN_RECORD": str(record),
        "STANDIN_SCRIPT": str(script),
    }
    site = sites.start(
        "--system", "local", "--campaign", str(_campaign(tmp_path)), "--run-id", RUN,
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
        "spawn-site", "--system", "local", "--campaign", str(_campaign(tmp_path)),
        "--run-id", RUN, "--runs-dir", str(tmp_path / "runs"), "--exchange", "local",
        "--site", "here", "--agents", "agent-aurora, agent-crux",
        env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "'claude-code' runs the 'claude' executable" in result.stderr
    assert "not on PATH" in result.stderr
    assert not (tmp_path / "runs" / RUN / "here" / "events").exists()


def _wait(condition, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def test_a_restarted_cli_agent_resumes_its_session(sites, http_server, tmp_path):
    go = tmp_path / "go"
    script = {
        "agent-aurora": SCRIPT["agent-aurora"],
        "agent-crux": [{"wait_for": str(go), "calls": SCRIPT["agent-crux"][0]}],
    }
    bin_dir = install_standins(tmp_path / "bin")
    record, script_file = tmp_path / "record", tmp_path / "script.json"
    script_file.write_text(json.dumps(script))
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "STANDIN_RECORD": str(record),
        "STANDIN_SCRIPT": str(script_file),
    }
    common = ["--system", "local", "--campaign", str(_campaign(tmp_path)), "--run-id", "cli-2"]
    common += ["--exchange", "http", "--exchange-url", http_server.url]
    crux = sites.start(*common, "--site", "crux", "--agents", "agent-crux", name="c", env=env)
    aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="a",
                         env=env)  # fmt: skip
    here = sites.runs_dir / "cli-2" / "aurora"
    events = here / "events" / "agent-aurora.jsonl"
    _wait(lambda: events.exists() and '"decision"' in events.read_text(), "aurora's first turn")
    status = json.loads((here / "status" / "agent-aurora.json").read_text())
    killed = status["pid"]
    os.kill(killed, signal.SIGKILL)
    aurora.wait_for_line("agent-aurora (rank 0) died: signal 9; restart 1/3", timeout=30)
    _wait(lambda: '"agent_restarted"' in events.read_text(), "aurora to be restarted")
    go.touch()  # now crux answers, and the new incarnation of aurora takes the turn
    assert aurora.wait(timeout=120) == 0, aurora.output
    assert crux.wait(timeout=60) == 0, crux.output

    first, second = records(record, "agent-aurora")
    assert second["resumed"] == first["session"]  # read back from agent_cli/agent-aurora.json
    assert second["argv"][second["argv"].index("--resume") + 1] == first["session"]
    assert second["cwd"] == first["cwd"] == str(here / "agent_cli" / "agent-aurora")
    state = json.loads(second["argv"][second["argv"].index("-p") + 1])
    assert state["new_messages"][0]["content"] == "pong to ping"
    assert [a["action"] for a in state["recent_actions"]] == ["send_message", "finish_turn"]
    status = json.loads((here / "status" / "agent-aurora.json").read_text())
    assert status["result"] == "crux said: pong to ping" and status["pid"] != killed


def test_an_agents_own_cli_not_on_path_names_the_agent(chia, tmp_path):
    bin_dir = tmp_path / "only-claude"
    install_standins(bin_dir)
    (bin_dir / "codex").unlink()
    env = {**os.environ, "PATH": str(bin_dir)}
    result = chia(
        "spawn-site", "--system", "local", "--campaign", str(_campaign(tmp_path)),
        "--run-id", RUN, "--runs-dir", str(tmp_path / "runs"), "--exchange", "local",
        "--site", "here", "--agents", "agent-crux",
        env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "agent 'agent-crux': lm provider 'codex' runs the 'codex' executable" in result.stderr
