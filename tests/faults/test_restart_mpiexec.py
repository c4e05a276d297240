"""mpiexec: SIGKILL of one rank's host process; the rank's supervisor restarts it.

Both agents run under real mpiexec (the mpich wheel) on the Redis exchange. Killing a
rank itself would make Hydra end the whole job, so each rank is a supervisor whose child
is the host: the child is killed, the rank (and the job) lives on, the host comes back
under the same uid and the counter game completes with the exact result.
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from chia.processes import is_running
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


def _wait(condition, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def _parent(pid):
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rpartition(")")[2].split()[1])


def test_a_killed_host_under_mpiexec_is_restarted_inside_its_rank(sites, redis, tmp_path):
    campaign = write_campaign_dir(
        tmp_path,
        "long-counter",
        AGENTS,
        policy={"kind": "counter", "target": 600},
        limits={"max_decisions": 5000, "idle_timeout_s": 120},
    )
    site = sites.start(
        *("--system", "local", "--campaign", str(campaign), "--run-id", "mpi-restart"),
        *("--launcher", "mpiexec", "--exchange", "redis", "--exchange-url", redis.url(11)),
        *("--site", "cluster", "--agents", "agent-aurora,agent-crux"),
    )
    status_path = sites.runs_dir / "mpi-restart" / "cluster" / "status" / "agent-crux.json"
    before = _wait(
        lambda: (s := _status(status_path)).get("decisions", 0) >= 5 and s, "crux's turns"
    )
    rank = _parent(before["pid"])  # the rank supervisor, a child of Hydra's proxy
    os.kill(before["pid"], signal.SIGKILL)
    site.wait_for_line("[cluster] agent-crux (rank 1) died: signal 9; restart 1/3")
    after = _wait(
        lambda: (s := _status(status_path)).get("pid") not in (None, before["pid"]) and s,
        "a new pid in crux's status",
    )
    assert _parent(after["pid"]) == rank and is_running(rank)  # same rank, same job
    assert after["uid"] == before["uid"]

    assert site.wait(timeout=120) == 0, site.output
    assert "BAD TERMINATION" not in site.output
    final = _status(status_path)
    assert (final["result"], final["finish_reason"], final["restarts"]) == (
        "counter = 600",
        "completed",
        1,
    )
