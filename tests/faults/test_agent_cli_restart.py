"""A CLI agent's host is SIGKILLed between its turns: the restarted agent resumes its session.

Two sites play the ping-pong campaign of :mod:`chia.testing.agent_cli_standin` (claude-code
on aurora, codex on crux, stand-in executables first on PATH) over a real HTTP exchange.
Crux holds its answer until aurora's first incarnation is killed and restarted; the new
incarnation then takes the turn in the same CLI session (``--resume`` with the id the
first one saved), in the same working directory, and remembers its earlier actions.
"""

from __future__ import annotations

import json
import os
import signal
import time

from chia.testing.agent_cli_standin import (
    PING_PONG_SCRIPT,
    install_standins,
    ping_pong_campaign,
    records,
)


def _wait(condition, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def test_a_restarted_cli_agent_resumes_its_session(sites, http_server, tmp_path):
    go = tmp_path / "go"
    script = {
        "agent-aurora": PING_PONG_SCRIPT["agent-aurora"],
        "agent-crux": [{"wait_for": str(go), "calls": PING_PONG_SCRIPT["agent-crux"][0]}],
    }
    bin_dir = install_standins(tmp_path / "bin")
    record, script_file = tmp_path / "record", tmp_path / "script.json"
    script_file.write_text(json.dumps(script))
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "STANDIN_RECORD": str(record),
        "STANDIN_SCRIPT": str(script_file),
    }
    campaign = ping_pong_campaign(tmp_path)
    common = ["--system", "local", "--campaign", str(campaign), "--run-id", "cli-2"]
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
