"""Read event files: incrementally, tolerant of torn and malformed lines, merged in order."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import from_json

from chia.events.model import EVENT_KINDS, SCHEMA_VERSION, Event, parse_event

__all__ = [
    "CausalKey",
    "EventFileCursor",
    "causal_key",
    "iter_events",
    "merge_events",
    "site_event_files",
]

#: Lamport clock, wall time, site, writer: the order of a merged multi-site timeline.
CausalKey = tuple[int, datetime, str, str]

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

    def _complete_lines(self) -> list[bytes]:
        """Consume and return the newline-terminated lines appended since the last read."""
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
        return [line for raw in complete.split(b"\n") if (line := raw.strip())]

    def _skip(self, number: int) -> None:
        self.bad_lines += 1
        if self.bad_lines == 1:
            log.warning("%s: skipping a malformed line (near %d)", self.path, number)

    def read_new_lines(self) -> list[tuple[Event, bytes]]:
        """Return the events appended since the last call, each with its JSON line.

        The line (stripped of surrounding whitespace) lets a reader pass events on without
        serializing them again, e.g. the dashboard's HTTP API.
        """
        events: list[tuple[Event, bytes]] = []
        for number, line in enumerate(self._complete_lines(), start=1):
            try:
                events.append((parse_event(line), line))
            except ValidationError:
                self._skip(number)
        return events

    def read_new_keyed(self) -> list[tuple[CausalKey, bytes]]:
        """Like :meth:`read_new_lines`, but without building event models: fast.

        For readers that pass lines on untouched (the dashboard). Each line must be JSON
        with a well-formed header: a declared ``kind``, this ``schema_version``, an integer
        ``clock``, an ISO ``timestamp``, and ``site`` and ``agent`` strings; anything else
        is skipped and counted like a malformed line. The full schema was checked by the
        writer, which can only write declared, valid event models.

        Returns:
            ``(causal key, line)`` pairs; the key orders like :func:`causal_key`.
        """
        keyed: list[tuple[CausalKey, bytes]] = []
        for number, line in enumerate(self._complete_lines(), start=1):
            try:
                data = from_json(line)
                clock = data["clock"]
                if (
                    data["kind"] not in EVENT_KINDS
                    or data["schema_version"] != SCHEMA_VERSION
                    or type(clock) is not int
                    or clock < 0
                ):
                    raise ValueError("bad header")
                key = (clock, _parse_timestamp(data["timestamp"]), data["site"], data["agent"])
                if type(key[2]) is not str or type(key[3]) is not str:
                    raise ValueError("bad header")
            except (ValueError, KeyError, TypeError):
                self._skip(number)
                continue
            keyed.append((key, line))
        return keyed


def _parse_timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError("timestamp is not a string")
    stamp = datetime.fromisoformat(value)
    if stamp.tzinfo is None:
        raise ValueError("timestamp without a time zone")
    return stamp


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
