"""SIGKILL the whole crux site mid-campaign (a preempted allocation) and --resume it 5 s later.

spawn-site and every process it started die at once (a SIGKILL of its process group).
Aurora keeps running and retrying its sends. Five seconds later crux is started again
with ``--resume``: its agent re-registers under the same uid, rebuilds its state from its
events file, receives what was queued or resent for it, and the 1,000-message fault-flood
campaign completes with the exact result, nothing lost and nothing decided twice.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timezone

import pytest

from chia.agent.scripted import BallsScriptedPolicy
from chia.campaign import BallsPolicy, load_campaign

CAMPAIGN = "fault-flood"
RUN_TIMEOUT_S = 300
DOWN_S = 5.0


def _received(site_dir) -> int:
    try:
        return (site_dir / "events" / "agent-crux.jsonl").read_bytes().count(b"message_received")
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("exchange", ["http", "redis", "push", "redis-fast"], indirect=True)
def test_a_killed_site_resumes_and_nothing_is_lost(sites, exchange, fault_table):
    spec = load_campaign(CAMPAIGN).spec.policy
    assert isinstance(spec, BallsPolicy)
    run_id = f"resume-{exchange.kind}"
    common = ["--system", "local", "--campaign", CAMPAIGN, "--run-id", run_id, *exchange.args]
    crux_args = [*common, "--site", "crux", "--agents", "agent-crux"]
    crux = sites.start(*crux_args, name="crux")
    aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="aurora")
    site_dir = sites.runs_dir / run_id / "crux"
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while _received(site_dir) < spec.balls * spec.target // 4:
        assert crux.proc.poll() is None and aurora.proc.poll() is None, crux.output
        assert time.monotonic() < deadline, "crux never got a quarter of the way"
        time.sleep(0.01)

    killed_at = datetime.now(timezone.utc)
    os.killpg(crux.proc.pid, signal.SIGKILL)  # spawn-site and its hosts, all at once
    crux.wait(timeout=10)
    time.sleep(DOWN_S)
    resumed = sites.start(*crux_args, "--resume", name="resumed")

    assert resumed.wait(RUN_TIMEOUT_S) == 0, resumed.output
    assert aurora.wait(RUN_TIMEOUT_S) == 0, aurora.output
    assert "restarted (site resumed)" in resumed.output, resumed.output
    figures = fault_table.record(
        f"SIGKILL crux site, --resume {DOWN_S:g}s later",
        "local",
        exchange.kind,
        sites.runs_dir / run_id,
        killed_at=killed_at,
    )
    assert figures.results == (BallsScriptedPolicy.expected_result(spec),), figures
    assert (figures.lost, figures.lost_ids) == (0, ()), figures
    assert (figures.duplicates_decided, figures.duplicate_ids) == (0, ()), figures
    assert figures.recovery_s is not None, figures
