"""The merged, incrementally refreshed view of one run's events and snapshots.

Every writer's file is read by its own :class:`~chia.events.EventFileCursor`, so a refresh
costs one ``read`` of what was appended since the last one. Events get a sequence number
in order of arrival: a browser asks for ``after=<seq>`` and receives only what is new,
even when a late site's events sort before ones it already has (it inserts them in
causal order). The merged list itself is kept in causal order (Lamport clock, then time).

The store only reads. Events are kept as their JSON lines, untouched; ``"seq"`` is spliced
into the ones served (a browser holds a window of them, not the run), so serving never
re-serializes a model and loading never copies a line.
"""

from __future__ import annotations

import bisect
import contextlib
import gc
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any

from chia.dashboard.query import Aggregates, TimelineQuery, timeline_page, with_seq
from chia.dashboard.sites import discover_sites, read_site_snapshot, snapshot_signature
from chia.events import EVENT_KINDS, SITE_WRITER
from chia.events.reader import CausalKey, EventFileCursor, site_event_files

__all__ = ["RunStore", "SiteCounts"]

#: The writer name of a site's own events (not an agent).

#: The causal sort key: Lamport clock, wall time, site, writer (``causal_key`` order).
Key = CausalKey
#: One stored event: its key, its arrival number, and its JSON line as written.
#: Plain tuples sort in C: keys first, and seq (unique) settles any tie.
_Entry = tuple[Key, int, bytes]


@dataclass
class SiteCounts:
    """Per-site tallies for the header badge."""

    site: str
    events: int = 0
    agents: set[str] = field(default_factory=set)
    bad_lines: int = 0
    torn_files: int = 0

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "site": self.site,
            "events": self.events,
            "agents": sorted(self.agents),
            "bad_lines": self.bad_lines,
            "torn_files": self.torn_files,
        }


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while a batch is built.

    A large first read allocates millions of acyclic objects (events, tuples, bytes);
    each allocation burst would trigger collections that re-scan everything kept so far,
    which tripled the load time of a 1M-event run. Nothing built here forms cycles.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()  # what was loaded stays: later collections need not scan it again
        if was_enabled:
            gc.enable()


class RunStore:
    """Reads one run directory (all its sites) incrementally; thread-safe.

    Args:
        run_dir: ``<runs>/<run_id>``; it may not exist yet (a mirror still starting).
        run_id: The run id shown to users (taken from the command line, not the path).
    """

    def __init__(self, run_dir: Path, run_id: str) -> None:
        self.run_dir = run_dir
        self.run_id = run_id
        self._lock = threading.Lock()
        self._cursors: dict[Path, tuple[str, EventFileCursor]] = {}
        self._merged: list[_Entry] = []
        self._arrived: list[_Entry] = []
        self._counts: dict[str, SiteCounts] = {}
        self._site_dirs: dict[str, Path] = {}
        self._snapshot_sig: tuple[Any, ...] = ()
        self._snapshots: list[dict[str, Any]] = []
        self._aggregates = Aggregates()
        self._aggregates_lock = threading.Lock()  # taken before _lock, never inside it
        self._aggregated = 0  # how many of _arrived the aggregates have counted
        self.snapshot_version = 0

    @property
    def cursor(self) -> int:
        """The sequence number of the newest event read (0 before any)."""
        return len(self._arrived)

    @property
    def site_dirs(self) -> list[Path]:
        """The run's site directories as the last refresh found them."""
        return list(self._site_dirs.values())

    def _discover_files(self) -> None:
        self._site_dirs = discover_sites(self.run_dir)
        for site, site_dir in self._site_dirs.items():
            counts = self._counts.setdefault(site, SiteCounts(site))
            for path in site_event_files(site_dir):
                if path not in self._cursors:
                    self._cursors[path] = (site, EventFileCursor(path))
                    if path.stem != SITE_WRITER:  # one writer per file: the file names it
                        counts.agents.add(path.stem)

    def refresh(self) -> int:
        """Read what every writer appended since the last refresh; return how many events."""
        with self._lock, _gc_paused():
            self._discover_files()
            batch: list[tuple[Key, bytes]] = []
            for counts in self._counts.values():
                counts.torn_files = 0
            for site, cursor in self._cursors.values():
                counts = self._counts[site]
                bad_before = cursor.bad_lines
                pairs = cursor.read_new_keyed()
                batch += pairs
                counts.events += len(pairs)
                counts.bad_lines += cursor.bad_lines - bad_before
                counts.torn_files += cursor.torn_tail
            if batch:
                self._add(batch)
            return len(batch)

    def _add(self, batch: list[tuple[Key, bytes]]) -> None:
        batch.sort(key=itemgetter(0))
        start = len(self._arrived) + 1
        entries = [(key, seq, line) for seq, (key, line) in enumerate(batch, start=start)]
        self._arrived += entries
        merged = self._merged
        if not merged or entries[0] >= merged[-1]:
            merged += entries  # the usual case: new events are the newest
        elif len(entries) > 256:
            merged += entries
            merged.sort()  # two sorted runs: timsort merges them in linear time
        else:
            for entry in entries:
                bisect.insort_right(merged, entry)

    def events_json(self, after: int = 0, tail: int | None = None) -> tuple[int, bytes]:
        """The events as a JSON document ``{"cursor", "total", "skipped", "events": [...]}``.

        Args:
            after: 0 for the whole merged timeline; a sequence number for only the events
                that arrived after it (in causal order among themselves).
            tail: At most this many: the newest (in causal order) of those asked for;
                ``skipped`` says how many older ones were left out.

        Returns:
            The cursor the document ends at, and the document.
        """
        with self._lock:
            chosen = self._merged if after <= 0 else sorted(self._arrived[after:])
            skipped = 0 if tail is None else max(0, len(chosen) - tail)
            lines = [with_seq(entry) for entry in chosen[skipped:]]
            cursor = len(self._arrived)
            head = b'{"cursor":%d,"total":%d,"skipped":%d,"events":[' % (
                cursor,
                len(self._merged),
                skipped,
            )
        return cursor, head + b",".join(lines) + b"]}"

    def aggregates_json(self, top_agents: int | None = None) -> dict[str, Any]:
        """Per site, agent and site pair tallies (:class:`~chia.dashboard.query.Aggregates`).

        Counted when asked, from where the last call stopped: loading a run costs nothing
        for them, and the first call on a million events takes a few seconds, during which
        the store's other readers (the timeline, the stream) are not held up: only taking
        the new events holds the store's lock.
        """
        with self._aggregates_lock:
            with self._lock:
                new = self._arrived[self._aggregated :]
                self._aggregated = len(self._arrived)
            self._aggregates.add(new)
            return {"cursor": self._aggregated, **self._aggregates.to_json(top_agents=top_agents)}

    def known_values(self) -> dict[str, set[str]]:
        """The sites, agents and kinds a timeline filter may name."""
        with self._lock:
            return {
                "sites": set(self._counts),
                "agents": {SITE_WRITER}.union(*(c.agents for c in self._counts.values())),
                "kinds": set(EVENT_KINDS),
            }

    def timeline_json(self, query: TimelineQuery) -> bytes:
        """One page of the timeline, newest first: ``{"cursor", "before", "events"}``."""
        with self._lock:
            lines, before = timeline_page(self._merged, query)
            cursor = len(self._arrived)
        head = b'{"cursor":%d,"before":%s,"events":[' % (
            cursor,
            b"null" if before is None else b'"%s"' % before.encode(),
        )
        return head + b",".join(lines) + b"]}"

    def site_counts(self) -> list[dict[str, Any]]:
        """Per-site tallies: events, agents seen, unreadable lines, files with a torn tail."""
        with self._lock:
            return [counts.to_json() for _, counts in sorted(self._counts.items())]

    def bad_lines(self) -> int:
        """Malformed lines skipped so far, over every file."""
        with self._lock:
            return sum(counts.bad_lines for counts in self._counts.values())

    def snapshots(self) -> list[dict[str, Any]]:
        """Each site's status and placement, re-read only when the files changed."""
        sites = discover_sites(self.run_dir)
        signature = tuple((site, snapshot_signature(path)) for site, path in sites.items())
        with self._lock:
            if signature != self._snapshot_sig:
                self._snapshots = [
                    read_site_snapshot(site, path).to_json() for site, path in sites.items()
                ]
                self._snapshot_sig = signature
                self.snapshot_version += 1
            return self._snapshots
