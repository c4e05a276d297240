"""The fault-flood campaign while its redis-server is SIGKILLed and restarted (AOF).

Two sites (local launcher) run the 1,000-message fault-flood campaign over
``--exchange redis``. Once agent-aurora has received 200 messages, redis-server is
SIGKILLed, stays down 3 s, and comes back on the same port with the same AOF
(``appendfsync always``). The campaign must complete with its exact result, nothing lost
and nothing decided twice.
"""

from __future__ import annotations

import dataclasses
import json
import signal
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chia.agent.scripted import BallsScriptedPolicy
from chia.campaign import BallsPolicy, load_campaign
from chia.events import MessageReceived, iter_events
from chia.testing import RedisServer, redis_server
from chia.testing.faults import analyze_run, run_event_files

CAMPAIGN = "fault-flood"
#: Generous: only so that a stuck campaign fails instead of blocking the suite.
RUN_TIMEOUT_S = 600
#: Received messages (agent-aurora) before the exchange is taken away: mid-campaign.
KILL_AFTER = 200
DOWN_S = 3.0


@pytest.fixture
def aof_redis(no_leftovers) -> Iterator[RedisServer]:
    """A redis-server of this scenario, persisting every write to its AOF."""
    with redis_server(appendonly=True, appendfsync="always") as server:
        no_leftovers.watch_port(server.port)
        yield server


def received(events_file: Path) -> int:
    """How many ``message_received`` events the file holds so far."""
    try:
        return events_file.read_text(errors="replace").count('"kind":"message_received"')
    except FileNotFoundError:
        return 0


def first_receive_after(run: Path, moment: datetime) -> float | None:
    """Seconds from ``moment`` to the first ``message_received`` of any agent after it."""
    times = [
        event.timestamp
        for event in iter_events(run_event_files(run))
        if isinstance(event, MessageReceived) and event.timestamp > moment
    ]
    return round((min(times) - moment).total_seconds(), 2) if times else None


def run_flood_with_restart(
    sites,
    fault_table,
    *,
    run_id: str,
    exchange_args: list[str],
    exchange: str,
    scenario: str,
    restart: Callable[[], None],
) -> None:
    """Run fault-flood on two sites, call ``restart()`` mid-campaign, check the outcome."""
    spec = load_campaign(CAMPAIGN).spec.policy
    assert isinstance(spec, BallsPolicy)
    expected = BallsScriptedPolicy.expected_result(spec)
    common = ["--system", "local", "--launcher", "local", "--campaign", CAMPAIGN]
    common += ["--run-id", run_id, *exchange_args]
    aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="aurora")
    crux = sites.start(*common, "--site", "crux", "--agents", "agent-crux", name="crux")
    run = sites.runs_dir / run_id
    events = run / "aurora" / "events" / "agent-aurora.jsonl"
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while received(events) < KILL_AFTER:
        assert aurora.proc.poll() is None, aurora.output
        assert time.monotonic() < deadline, aurora.output
        time.sleep(0.01)
    restart()
    back_at = datetime.now(timezone.utc)
    assert aurora.wait(RUN_TIMEOUT_S) == 0, aurora.output
    assert crux.wait(RUN_TIMEOUT_S) == 0, crux.output

    figures = analyze_run(run)
    # Recovery here: from the exchange answering again to the next message received.
    figures = dataclasses.replace(figures, recovery_s=first_receive_after(run, back_at))
    fault_table.add(scenario, "local", exchange, figures)
    assert figures.results == (expected,), figures
    assert (figures.lost, figures.lost_ids) == (0, ()), figures
    assert (figures.duplicates_decided, figures.duplicate_ids) == (0, ()), figures
    assert figures.sent == spec.balls * spec.target + 2, figures
    assert figures.delivered == figures.sent, figures
    assert figures.acknowledged == figures.sent, figures
    for site, agent, proc in (("aurora", "agent-aurora", aurora), ("crux", "agent-crux", crux)):
        status = json.loads((run / site / "status" / f"{agent}.json").read_text())
        assert status["state"] == "finished", status
        assert "Traceback" not in proc.output, proc.output


def test_flood_survives_a_redis_restart(sites, aof_redis, fault_table):
    def restart() -> None:
        aof_redis.restart(signal.SIGKILL, DOWN_S)

    run_flood_with_restart(
        sites,
        fault_table,
        run_id="flood-redis-restart",
        exchange_args=["--exchange", "redis", "--exchange-url", aof_redis.url(0)],
        exchange="redis (AOF)",
        scenario="redis-server SIGKILL + restart",
        restart=restart,
    )
