"""The restart budget runs out: ``--max-restarts 1`` and two SIGKILLs of crux's host.

Crux's site restarts the first death, gives up on the second (landmark line, an
``agent_gave_up`` event after everything in crux's events file) and exits 1 naming the
agent and why. Aurora, left without a partner, idles out before the campaign completed:
its site exits 1 too, saying so.
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


def _status(path):
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _running_pid(path, besides, timeout=60.0):
    """The pid of a running incarnation other than ``besides`` that has taken turns."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _status(path)
        new = status.get("pid") not in (None, *besides) and status.get("state") == "running"
        if new and status.get("decisions", 0) >= 3 + len(besides):
            return status["pid"]
        time.sleep(0.05)
    raise AssertionError(f"no new running incarnation in {path}: {_status(path)}")


def test_gave_up_after_the_budget_is_exit_1_naming_the_agent(sites, exchange, tmp_path):
    campaign = write_campaign_dir(
        tmp_path,
        "long-counter",
        AGENTS,
        policy={"kind": "counter", "target": 100000},
        # Aurora's turn retries its send while crux is down: the deadline must outlast
        # one restart (~3 s here, more on a busy machine); then aurora idles out.
        limits={"max_decisions": 100000, "idle_timeout_s": 4, "delivery_deadline_s": 12},
    )
    common = ["--system", "local", "--campaign", str(campaign), "--run-id", "budget-1"]
    common += exchange.args
    crux = sites.start(
        *common, "--site", "crux", "--agents", "agent-crux", "--max-restarts", "1", name="crux"
    )
    aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="aurora")
    site_dir = sites.runs_dir / "budget-1" / "crux"
    status_path = site_dir / "status" / "agent-crux.json"

    first = _running_pid(status_path, [])
    os.kill(first, signal.SIGKILL)
    crux.wait_for_line("[crux] agent-crux (rank 0) died: signal 9; restart 1/1")
    second = _running_pid(status_path, [first])
    os.kill(second, signal.SIGKILL)

    assert crux.wait(timeout=60) == 1, crux.output
    assert "[crux] agent-crux (rank 0) gave up after 1 restarts: signal 9" in crux.output
    assert "[crux] agent-crux gave up after 1 restarts (signal 9)" in crux.output
    lines = (site_dir / "events" / "agent-crux.jsonl").read_bytes().splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    gave_up = events[-1]
    assert gave_up["kind"] == "agent_gave_up"
    assert (gave_up["restarts"], gave_up["cause"]) == (1, "signal 9")
    assert gave_up["clock"] > max(e["clock"] for e in events[:-1])
    status = _status(status_path)
    assert status["state"] == "failed" and status["restarts"] == 1
    site_finished = json.loads((site_dir / "events" / "_site.jsonl").read_text().splitlines()[-1])
    assert site_finished["status"] == "failed"
    assert site_finished["reasons"] == {"agent-crux": "gave up after 1 restarts (signal 9)"}

    assert aurora.wait(timeout=60) == 1, aurora.output
    expected = "[aurora] agent-aurora stopped on idle_timeout before the campaign completed"
    assert expected in aurora.output
