"""SIGTERM on an mpiexec site: exit 1, and the stop reaches each host through its rank.

Each rank is a supervisor with the host as its child; the supervisor passes the SIGTERM on
to the host and waits for it, so every agent records a clean stop (state finished,
reason stopped), nothing is restarted, and no host or rank process is left.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

from chia.processes import is_running


def _parent(pid):
    return int(Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[1])


def test_sigterm_stops_every_host_through_its_rank_supervisor(sites, redis):
    site = sites.start(
        *("--system", "local", "--campaign", "federated-chat", "--run-id", "mpi-term"),
        *("--launcher", "mpiexec", "--exchange", "redis", "--exchange-url", redis.url(12)),
        *("--site", "cluster", "--agents", "agent-aurora,agent-crux", "--no-bootstrap"),
    )
    site.wait_for_line("bootstrap skipped", timeout=90)
    status_dir = sites.runs_dir / "mpi-term" / "cluster" / "status"
    hosts = [json.loads(p.read_text())["pid"] for p in sorted(status_dir.glob("*.json"))]
    ranks = [_parent(pid) for pid in hosts]
    assert len(set(ranks)) == 2 and site.proc.pid not in ranks

    site.proc.send_signal(signal.SIGTERM)
    assert site.wait(timeout=60) == 1, site.output
    assert "interrupted" in site.output and "died:" not in site.output
    deadline = time.monotonic() + 10
    while any(is_running(pid) for pid in hosts + ranks):
        assert time.monotonic() < deadline, site.output
        time.sleep(0.05)
    statuses = [json.loads(p.read_text()) for p in status_dir.glob("*.json")]
    assert {(s["state"], s["finish_reason"]) for s in statuses} == {("finished", "stopped")}
