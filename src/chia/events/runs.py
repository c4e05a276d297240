"""Summaries of run directories, read from files only (never written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from chia.events.model import Event, LLMCall, MessageSent, ResultSubmitted
from chia.events.reader import EventFileCursor, site_event_files
from chia.events.snapshots import AgentStatus, read_snapshot

__all__ = [
    "ModelUsage",
    "RunSummary",
    "SiteSummary",
    "find_runs",
    "is_site_dir",
    "summarize_run",
]


@dataclass
class ModelUsage:
    """Model calls, tokens and cost, summed over ``llm_call`` events.

    A call without a price (``cost_usd`` None) adds nothing to ``cost_usd`` and is counted
    in ``unpriced_calls``, so a total is never silently low; a failed call costs nothing.
    """

    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    tokens_cached: int = 0
    cost_usd: float = 0.0
    unpriced_calls: int = 0

    def add(self, call: LLMCall) -> None:
        """Count one call."""
        self.count(call.tokens_in, call.tokens_out, call.tokens_cached, call.cost_usd, call.success)

    def count(
        self,
        tokens_in: int,
        tokens_out: int,
        tokens_cached: int,
        cost_usd: float | None,
        success: bool,
    ) -> None:
        """Count one call from its fields (for readers that do not build the event)."""
        self.calls += 1
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out
        self.tokens_cached += tokens_cached
        if cost_usd is not None:
            self.cost_usd += cost_usd
        elif success:
            self.unpriced_calls += 1

    def merge(self, other: ModelUsage) -> None:
        """Add another tally to this one."""
        self.calls += other.calls
        self.tokens_in += other.tokens_in
        self.tokens_out += other.tokens_out
        self.tokens_cached += other.tokens_cached
        self.cost_usd += other.cost_usd
        self.unpriced_calls += other.unpriced_calls

    def cost_text(self) -> str:
        """``$0.002400``, with the unpriced calls named; ``-`` when no call was made."""
        if not self.calls:
            return "-"
        text = f"${self.cost_usd:,.6f}"
        if self.unpriced_calls:
            text += f" + {self.unpriced_calls} unpriced call(s)"
        return text


@dataclass
class SiteSummary:
    """What one site's files say."""

    site: str
    path: Path
    statuses: dict[str, AgentStatus] = field(default_factory=dict)
    events: int = 0
    messages: int = 0
    cross_site_messages: int = 0
    results: list[str] = field(default_factory=list)
    bad_lines: int = 0
    usage: dict[str, ModelUsage] = field(default_factory=dict)

    @property
    def model_usage(self) -> ModelUsage:
        """The site's model usage: the sum of its agents'."""
        total = ModelUsage()
        for usage in self.usage.values():
            total.merge(usage)
        return total


@dataclass
class RunSummary:
    """One run across its sites."""

    run_id: str
    path: Path
    sites: list[SiteSummary]

    @property
    def agents(self) -> int:
        """Number of agents with a status file."""
        return sum(len(site.statuses) for site in self.sites)

    @property
    def model_usage(self) -> ModelUsage:
        """The run's model usage: the sum of its sites'."""
        total = ModelUsage()
        for site in self.sites:
            total.merge(site.model_usage)
        return total


def is_site_dir(path: Path) -> bool:
    """True for a directory that looks like one site of a run."""
    return (path / "launch.json").is_file() or (path / "events").is_dir()


def _summarize_site(path: Path, agent_sites: dict[str, str]) -> tuple[SiteSummary, list[Event]]:
    summary = SiteSummary(site=path.name, path=path)
    for status_file in sorted((path / "status").glob("*.json")):
        status = read_snapshot(status_file, AgentStatus)
        if status is not None:
            summary.statuses[status.agent] = status
            agent_sites[status.agent] = summary.site
    events: list[Event] = []
    for event_file in site_event_files(path):
        cursor = EventFileCursor(event_file)
        events.extend(cursor.read_new())
        summary.bad_lines += cursor.bad_lines
    summary.events = len(events)
    return summary, events


def summarize_run(run_dir: Path) -> RunSummary:
    """Summarize ``<runs>/<run_id>``: its sites, agents, events, messages, results, cost."""
    site_dirs = [p for p in sorted(run_dir.iterdir()) if p.is_dir() and is_site_dir(p)]
    agent_sites: dict[str, str] = {}
    read = [_summarize_site(path, agent_sites) for path in site_dirs]
    for summary, events in read:
        for event in events:
            if isinstance(event, MessageSent):
                summary.messages += 1
                peer_site = agent_sites.get(event.recipient)
                if peer_site is not None and peer_site != summary.site:
                    summary.cross_site_messages += 1
            elif isinstance(event, ResultSubmitted):
                summary.results.append(event.result)
            elif isinstance(event, LLMCall):
                summary.usage.setdefault(event.agent, ModelUsage()).add(event)
    return RunSummary(run_id=run_dir.name, path=run_dir, sites=[summary for summary, _ in read])


def find_runs(runs_dir: Path) -> list[Path]:
    """Return the run directories under ``runs_dir`` (those holding at least one site)."""
    if not runs_dir.is_dir():
        return []
    return [
        run
        for run in sorted(runs_dir.iterdir())
        if run.is_dir() and any(is_site_dir(p) for p in run.iterdir() if p.is_dir())
    ]
