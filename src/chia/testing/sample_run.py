"""A small two-site run written with the real event and snapshot writers (no demo needed)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from chia.events import (
    SITE_WRITER,
    AgentPlacement,
    AgentRunning,
    AgentState,
    AgentStatus,
    EventWriter,
    MessageReceived,
    MessageSent,
    Placement,
    SiteStarted,
    events_path,
    write_snapshot,
)

__all__ = ["write_two_site_run"]


def write_two_site_run(root: Path, run_id: str = "run-1") -> Path:
    """Write ``<root>/<run_id>/{aurora,crux}``: six events, statuses and placements.

    Sites aurora (agent ``agent-a``) and crux (agent ``agent-c``); ``agent-a`` sends one
    message to ``agent-c``, whose receipt carries Lamport clock 10.

    Returns:
        The run directory.
    """
    run = root / run_id
    now = datetime.now(timezone.utc)
    for site, agent in (("aurora", "agent-a"), ("crux", "agent-c")):
        site_dir = run / site
        with EventWriter(
            events_path(site_dir, SITE_WRITER), run_id=run_id, site=site, writer=SITE_WRITER
        ) as w:
            w.emit(SiteStarted, launcher="local", agents=[agent], exchange="http", host="h")
        with EventWriter(events_path(site_dir, agent), run_id=run_id, site=site, writer=agent) as w:
            w.emit(AgentRunning)
        status = AgentStatus(
            run_id=run_id,
            site=site,
            agent=agent,
            uid=f"uid-{agent}",
            state=AgentState.RUNNING,
            host=f"{site}-node",
            updated=now,
        )
        write_snapshot(site_dir / "status" / f"{agent}.json", status)
        placement = Placement(
            run_id=run_id,
            site=site,
            launcher="local",
            exchange="http",
            updated=now,
            agents=[AgentPlacement(agent=agent, uid=f"uid-{agent}", host=f"{site}-node", rank=0)],
        )
        write_snapshot(site_dir / "placement.json", placement)
    with EventWriter(
        events_path(run / "aurora", "agent-a"), run_id=run_id, site="aurora", writer="agent-a"
    ) as w:
        w.clock.observe(1)
        w.emit(
            MessageSent,
            message_id="m1",
            sender="agent-a",
            recipient="agent-c",
            message_kind="chat",
            round=1,
            tldr="hello",
            recipient_site="crux",
        )
    with EventWriter(
        events_path(run / "crux", "agent-c"), run_id=run_id, site="crux", writer="agent-c"
    ) as w:
        w.emit(
            MessageReceived,
            clock=10,
            message_id="m1",
            sender="agent-a",
            recipient="agent-c",
            message_kind="chat",
            round=1,
            sender_site="aurora",
        )
    return run
