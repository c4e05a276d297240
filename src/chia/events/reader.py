"""Read event files: incrementally, tolerant of torn and malformed lines, merged in order."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import AwareDatetime, ConfigDict, NonNegativeInt, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from chia.events.model import EVENT_KINDS, Event, parse_event

__all__ = [
    "MAX_LINE_BYTES",
    "CausalKey",
    "EventFileCursor",
    "causal_key",
    "iter_events",
    "merge_events",
    "site_event_files",
]

#: Lamport clock, wall time (POSIX seconds), site, writer: the order of a merged timeline.
CausalKey = tuple[int, float, str, str]

log = logging.getLogger(__name__)

#: The longest event line a fast reader (the dashboard) accepts; a longer one is skipped and
#: counted as malformed, so one runaway line cannot fill a browser or a response.
MAX_LINE_BYTES = 1 << 20


def causal_key(event: Event) -> CausalKey:
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

    def _complete_lines(self, strip: bool = True) -> list[bytes]:
        """Consume and return the newline-terminated lines appended since the last read.

        Blank lines are dropped; with ``strip`` False the others are returned as written
        (surrounding whitespace kept, which a JSON parser ignores anyway).
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
        if not strip:
            return [raw for raw in complete.split(b"\n") if raw and not raw.isspace()]
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

        For readers that pass lines on untouched (the dashboard). Each line must be valid
        JSON with a well-formed header (this ``schema_version``, a declared ``kind``, a
        non-negative integer ``clock``, a time-zone-aware ``timestamp``, ``site`` and
        ``agent`` strings) and at most :data:`MAX_LINE_BYTES` long; anything else is
        skipped and counted like a malformed line.
        The header is checked in pydantic-core without building the rest of the event;
        the full schema was checked by the writer, which can only write declared models.

        Returns:
            ``(causal key, line)`` pairs; the key orders like :func:`causal_key`.
        """
        keyed: list[tuple[CausalKey, bytes]] = []
        append = keyed.append
        validate, kinds = _HEADER_JSON, EVENT_KINDS  # locals: this loop runs per event
        for number, line in enumerate(self._complete_lines(strip=False), start=1):
            try:
                if len(line) > MAX_LINE_BYTES:
                    raise _TOO_LONG
                header = validate(line)
                if header["kind"] not in kinds:
                    raise _TOO_LONG
            except ValidationError:
                self._skip(number)
                continue
            if line[0] != 0x7B or line[-1] != 0x7D:  # "{...}": what readers splice into
                line = line.strip()
            # the time as a float: compares fast, unlike tz-aware datetimes
            stamp = header["timestamp"].timestamp()
            append(((header["clock"], stamp, header["site"], header["agent"]), line))
        return keyed


class _EventHeader(TypedDict):
    """The fields every event line starts with; the rest of the line is not built."""

    __pydantic_config__ = ConfigDict(extra="ignore")  # type: ignore[misc]
    schema_version: Literal[1]
    timestamp: AwareDatetime
    site: str
    agent: str
    clock: NonNegativeInt
    kind: str


_HEADER: TypeAdapter[_EventHeader] = TypeAdapter(_EventHeader)
_HEADER_JSON = _HEADER.validator.validate_json  # the TypeAdapter's own wrapper costs 0.4 us
_TOO_LONG = ValidationError.from_exception_data("event line", [])


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
