"""Read event files: incrementally, tolerant of torn and malformed lines, merged in order."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from chia.events.model import Event, parse_event

__all__ = ["EventFileCursor", "causal_key", "iter_events", "merge_events", "site_event_files"]

log = logging.getLogger(__name__)


def causal_key(event: Event) -> tuple[int, float, str, str]:
    """Sort key for a merged timeline: Lamport clock, then wall time, then site and writer."""
    return (event.clock, event.timestamp.timestamp(), event.site, event.agent)


@dataclass
class EventFileCursor:
    """Reads one writer's file from where it last stopped.

    Only newline-terminated lines are consumed: a line still being written (a torn tail)
    is left for the next read, and reported once if it never completes. A malformed
    complete line is skipped and counted.
    """

    path: Path
    offset: int = 0
    bad_lines: int = 0
    torn_tail: bool = False
    _warned_torn: bool = field(default=False, repr=False)

    def read_new(self) -> list[Event]:
        """Return the events appended since the last call."""
        return [event for event, _ in self.read_new_lines()]

    def read_new_lines(self) -> list[tuple[Event, bytes]]:
        """Return the events appended since the last call, each with its JSON line.

        The line (stripped of surrounding whitespace) lets a reader pass events on without
        serializing them again, e.g. the dashboard's HTTP API.
        """
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return []
        complete, newline, tail = chunk.rpartition(b"\n")
        self.torn_tail = bool(tail)
        if self.torn_tail and not self._warned_torn:
            log.warning("%s: skipping an incomplete last line (still being written?)", self.path)
            self._warned_torn = True
        if not newline:
            return []
        self.offset += len(complete) + 1
        events: list[tuple[Event, bytes]] = []
        for number, raw in enumerate(complete.split(b"\n"), start=1):
            line = raw.strip()
            if not line:
                continue
            try:
                events.append((parse_event(line), line))
            except ValidationError:
                self.bad_lines += 1
                if self.bad_lines == 1:
                    log.warning("%s: skipping a malformed line (near %d)", self.path, number)
        return events


def site_event_files(site_dir: Path) -> list[Path]:
    """Return the per-writer event files of one site directory, sorted by name."""
    return sorted((site_dir / "events").glob("*.jsonl"))


def iter_events(paths: Iterable[Path]) -> Iterator[Event]:
    """Yield every readable event of the given files, file by file."""
    for path in paths:
        yield from EventFileCursor(path).read_new()


def merge_events(events: Iterable[Event]) -> list[Event]:
    """Return events in causal order (see ``causal_key``)."""
    return sorted(events, key=causal_key)
