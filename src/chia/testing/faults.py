"""The fault suite's figures: what a run's event files say was sent, delivered and lost.

:func:`analyze_run` reads every writer's file of a run directory (``<runs>/<run_id>/``,
all sites) and counts, by message id:

* **sent**: messages committed by their sender: the ids a ``decision`` lists in ``sent``
  (chat and ``complete`` notices) and kickoffs (``bootstrap_dispatched``, or a
  ``message_sent`` of kind ``kickoff``). A ``message_sent`` no decision committed (its
  turn was cut short by a kill) is not counted: its messages are decided again.
* **acknowledged**: ids of ``message_acked`` events, and kickoffs a ``bootstrap_dispatched``
  records (it is written once the recipient acknowledged).
* **delivered**: ids of ``message_received`` events (each counted once).
* **lost**: sent ids never received. A ``complete`` notice to a peer that had completed
  the campaign on its own is not lost: that peer needed it no more.
* **duplicates decided**: ids in the ``consumed`` list of more than one ``decision`` of
  the same agent (across its restarts): the fault delivery's dedupe must rule out.
* **recovery s**: from a kill (the test gives its time) to the ``agent_running`` that
  follows the restarted agent's ``agent_restarted``; the slowest agent when several came
  back.

:func:`format_table` renders one :class:`FaultRow` per scenario as a Markdown table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from chia.events import (
    AgentFinished,
    AgentRestarted,
    AgentRunning,
    BootstrapDispatched,
    Decision,
    Event,
    MessageAcked,
    MessageReceived,
    MessageSent,
    ResultSubmitted,
    iter_events,
)

__all__ = [
    "TABLE_COLUMNS",
    "FaultRow",
    "RunFigures",
    "analyze_run",
    "format_table",
    "run_event_files",
    "write_table",
]

#: The columns of the fault suite's table, in order.
TABLE_COLUMNS = (
    "scenario",
    "launcher",
    "exchange",
    "messages sent",
    "acknowledged",
    "delivered",
    "lost",
    "duplicates decided",
    "recovery s",
)


@dataclass(frozen=True)
class RunFigures:
    """What one run's event files say about its messages (see the module docstring)."""

    sent: int
    acknowledged: int
    delivered: int
    lost: int
    duplicates_decided: int
    recovery_s: float | None
    lost_ids: tuple[str, ...] = ()
    duplicate_ids: tuple[str, ...] = ()
    results: tuple[str, ...] = ()


@dataclass(frozen=True)
class FaultRow:
    """One scenario's line of the table."""

    scenario: str
    launcher: str
    exchange: str
    figures: RunFigures

    def cells(self) -> list[str]:
        """The row's cells, in :data:`TABLE_COLUMNS` order."""
        figures = self.figures
        recovery = "-" if figures.recovery_s is None else f"{figures.recovery_s:.2f}"
        counts = (
            figures.sent,
            figures.acknowledged,
            figures.delivered,
            figures.lost,
            figures.duplicates_decided,
        )
        return [self.scenario, self.launcher, self.exchange, *map(str, counts), recovery]


def run_event_files(run_dir: Path) -> list[Path]:
    """Every writer's events file of a run directory, all sites, sorted."""
    return sorted(run_dir.glob("*/events/*.jsonl"))


def analyze_run(run_dir: Path, *, killed_at: datetime | None = None) -> RunFigures:
    """Count a run's messages from its event files (torn or malformed lines are skipped).

    Args:
        run_dir: ``<runs>/<run_id>``, holding one directory per site.
        killed_at: When the test killed a process (timezone-aware); gives recovery s.

    Raises:
        FileNotFoundError: If ``run_dir`` holds no event file at all.
    """
    files = run_event_files(run_dir)
    if not files:
        raise FileNotFoundError(f"no event files under {run_dir}/*/events/")
    by_writer: dict[tuple[str, str], list[Event]] = defaultdict(list)
    for path in files:
        for event in iter_events([path]):
            by_writer[(event.site, event.agent)].append(event)
    events = [event for stream in by_writer.values() for event in stream]

    committed: set[str] = set()
    notices: dict[str, MessageSent] = {}  # sent id -> its event (kind and recipient)
    received: set[str] = set()
    acked: set[str] = set()
    completed: set[str] = set()  # agents that finished the campaign on their own
    results: list[str] = []
    for event in events:
        if isinstance(event, Decision):
            committed.update(event.sent)
        elif isinstance(event, MessageSent):
            notices[event.message_id] = event
            if event.message_kind == "kickoff":
                committed.add(event.message_id)
        elif isinstance(event, BootstrapDispatched):
            committed.add(event.message_id)
            acked.add(event.message_id)
        elif isinstance(event, MessageReceived):
            received.add(event.message_id)
        elif isinstance(event, MessageAcked):
            acked.add(event.message_id)
        elif isinstance(event, AgentFinished) and event.reason == "completed":
            completed.add(event.agent)
        elif isinstance(event, ResultSubmitted):
            results.append(event.result)

    def moot(message_id: str) -> bool:
        notice = notices.get(message_id)
        return (
            notice is not None
            and notice.message_kind == "complete"
            and notice.recipient in completed
        )

    lost = sorted(i for i in committed if i not in received and not moot(i))
    duplicates = sorted(_duplicates_decided(by_writer.values()))
    return RunFigures(
        sent=len(committed),
        acknowledged=len(acked),
        delivered=len(received),
        lost=len(lost),
        duplicates_decided=len(duplicates),
        recovery_s=_recovery_s(by_writer.values(), killed_at),
        lost_ids=tuple(lost),
        duplicate_ids=tuple(duplicates),
        results=tuple(results),
    )


def _duplicates_decided(streams: Iterable[list[Event]]) -> set[str]:
    """Ids decided more than once by one agent (a site resumed in place keeps its files)."""
    per_agent: dict[str, Counter[str]] = defaultdict(Counter)
    for stream in streams:
        for event in stream:
            if isinstance(event, Decision):
                per_agent[event.agent].update(event.consumed)
    return {i for counts in per_agent.values() for i, n in counts.items() if n > 1}


def _recovery_s(streams: Iterable[list[Event]], killed_at: datetime | None) -> float | None:
    """Seconds from ``killed_at`` to the last restarted agent running again, or None."""
    if killed_at is None:
        return None
    recoveries: list[float] = []
    for stream in streams:
        restarted = False
        for event in stream:
            if isinstance(event, AgentRestarted) and event.timestamp >= killed_at:
                restarted = True
            elif restarted and isinstance(event, AgentRunning):
                recoveries.append((event.timestamp - killed_at).total_seconds())
                break
    return max(recoveries) if recoveries else None


def format_table(rows: Sequence[FaultRow]) -> str:
    """Render ``rows`` as a Markdown table under :data:`TABLE_COLUMNS`."""
    lines = [
        "| " + " | ".join(TABLE_COLUMNS) + " |",
        "|" + "|".join("---" for _ in TABLE_COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def write_table(rows: Sequence[FaultRow], path: Path, *, title: str = "Fault suite") -> None:
    """Write ``rows`` as a Markdown file (a heading, then the table); dirs are created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# {title}\n\n{format_table(rows)}")
