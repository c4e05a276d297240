"""Local launcher: SIGKILL of a running agent's host process; spawn-site restarts it.

Two sites over the self-hosted HTTP exchange play a long counter game; crux's host is
killed with SIGKILL mid-game. Its site prints the restart landmark, a new process (a new
pid in status) takes the agent back under the same uid, the new incarnation is told it
is restart 1 after signal 9, and the game completes with the exact result.
"""

from __future__ import annotations

import json
import os
import signal
import time

from chia.testing.campaigns import write_campaign_dir

AGENTS = [
    {"name": "agent-aurora", "role": "r", "mission": "m", "allowed_peers": ["agent-crux"]},
    {"name": "agent-crux", "role": "r", "mission": "m", "allowed_peers": ["agent-aurora"]},
]


def _status(runs, run_id, site, agent):
    path = runs / run_id / site / "status" / f"{agent}.json"
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _wait(condition, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def test_sigkilled_host_is_restarted_under_the_same_uid(sites, http_server, tmp_path):
    campaign = write_campaign_dir(
        tmp_path,
        "long-counter",
        AGENTS,
        policy={"kind": "counter", "target": 1000},
        limits={"max_decisions": 5000, "idle_timeout_s": 120},
    )
    common = ["--system", "local", "--campaign", str(campaign), "--run-id", "restart-1"]
    common += ["--exchange", "http", "--exchange-url", http_server.url]
    crux = sites.start(*common, "--site", "crux", "--agents", "agent-crux", name="crux")
    aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="aurora")
    runs = sites.runs_dir
    before = _wait(
        lambda: (
            (s := _status(runs, "restart-1", "crux", "agent-crux")).get("decisions", 0) >= 5 and s
        ),
        "crux to take a few turns",
    )
    os.kill(before["pid"], signal.SIGKILL)
    crux.wait_for_line("[crux] agent-crux (rank 0) died: signal 9; restart 1/3", timeout=30)
    after = _wait(
        lambda: (
            (s := _status(runs, "restart-1", "crux", "agent-crux")).get("pid")
            not in (None, before["pid"])
            and s
        ),
        "a new pid in crux's status",
    )
    assert after["uid"] == before["uid"]  # the same mailbox, under the same deterministic uid
    assert crux.proc.poll() is None and aurora.proc.poll() is None
    events_file = runs / "restart-1" / "crux" / "events" / "agent-crux.jsonl"
    events = events_file.read_text()
    registered = [json.loads(line) for line in events.splitlines() if "agent_registered" in line]
    assert [e["pid"] for e in registered][-2:] == [before["pid"], after["pid"]]
    log = (runs / "restart-1" / "crux" / "logs" / "agent-crux.log").read_text()
    assert log.count("registered on the http exchange") >= 2  # one log, appended

    assert crux.wait(timeout=120) == 0, crux.output
    events = events_file.read_text()
    assert aurora.wait(timeout=60) == 0, aurora.output
    restarted = [json.loads(line) for line in events.splitlines() if "agent_restarted" in line]
    assert [(e["restart"], e["cause"]) for e in restarted] == [(1, "signal 9")]
    final = {site: _status(runs, "restart-1", site, f"agent-{site}") for site in ("aurora", "crux")}
    assert {s["result"] for s in final.values()} == {"counter = 1000"}
    assert {s["finish_reason"] for s in final.values()} == {"completed"}
    assert final["crux"]["restarts"] == 1 and final["crux"]["decisions"] == 500
