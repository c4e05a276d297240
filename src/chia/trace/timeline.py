"""A run's events in causal order, read twice from disk instead of held in memory.

:func:`scan_run` reads every writer's file once: it validates each line (a malformed one
is an error naming ``file:line``) and keeps only a packed sort key per event, one Python
int (Lamport clock, wall time in microseconds, writer, line number), and each line's
byte offset. :meth:`CausalTimeline.events` then sorts nothing more: it walks the sorted
keys and re-reads each line where it lies. A million events cost tens of megabytes, not
the gigabytes a list of event models would.

The order is :func:`chia.events.reader.causal_key`'s: clock, then wall time, then site,
then writer; writers are ranked by the ``(site, agent)`` of their first line.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from pydantic import ValidationError

from chia.errors import ChiaUsageError
from chia.events.model import Event, parse_event
from chia.events.runs import is_site_dir

__all__ = [
    "CausalTimeline",
    "EventSource",
    "MalformedEventLineError",
    "Progress",
    "find_run_dir",
    "scan_run",
]

#: ``progress(phase, done, total)``: told every :data:`PROGRESS_EVERY` events and at the end.
Progress = Callable[[str, int, int], None]
PROGRESS_EVERY = 100_000

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)
_LINE_BITS = 40  # up to 2**40 lines per file
_RANK_BITS = 24  # up to 16M writer files
_TIME_BITS = 56  # microseconds since 1970, until the year 4253


class MalformedEventLineError(ChiaUsageError):
    """An events file holds a line that is not a valid event.

    Args:
        path: The file.
        line: Its 1-based line number.
        reason: What is wrong with it.
    """

    def __init__(self, path: Path, line: int, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        super().__init__(f"{path}:{line}: not a valid event: {reason}")


@dataclass
class EventSource:
    """One writer's events file: its writer and where each of its lines starts."""

    path: Path
    site: str
    writer: str
    offsets: array[int] = field(default_factory=lambda: array("Q"))
    torn_tail: bool = False


def find_run_dir(target: str | Path, runs_dir: Path) -> Path:
    """The run directory ``target`` names: a path, or a run id under ``runs_dir``.

    Raises:
        ChiaUsageError: If neither is a directory.
    """
    path = Path(target)
    if path.is_dir():
        return path
    under = runs_dir / str(target)
    if under.is_dir():
        return under
    raise ChiaUsageError(f"no run directory {str(target)!r} (nor {str(under)!r})")


def _event_files(run_dir: Path) -> list[Path]:
    if is_site_dir(run_dir):
        site_dirs = [run_dir]
    else:
        site_dirs = [p for p in sorted(run_dir.iterdir()) if p.is_dir() and is_site_dir(p)]
    return [f for site in site_dirs for f in sorted((site / "events").glob("*.jsonl"))]


def _short(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


def _parse(source: EventSource, number: int, line: bytes) -> Event:
    try:
        return parse_event(line)
    except ValidationError as exc:
        raise MalformedEventLineError(source.path, number, _short(exc)) from None


def _lines(handle: BinaryIO) -> Iterator[tuple[int, bytes, bool]]:
    """``(offset, line, complete)`` for each line; only the last may be incomplete."""
    offset = 0
    for raw in handle:
        yield offset, raw, raw.endswith(b"\n")
        offset += len(raw)


@dataclass
class CausalTimeline:
    """The events of one run, in causal order, read from disk on demand.

    Built by :func:`scan_run`; iterate :meth:`events` (as often as needed).
    """

    run_dir: Path
    sources: list[EventSource]
    keys: list[int]
    origin_us: int

    @property
    def total(self) -> int:
        """How many events the run holds."""
        return len(self.keys)

    @property
    def origin(self) -> datetime:
        """The earliest wall time of any event (UTC)."""
        return _EPOCH + self.origin_us * _US

    def events(self, progress: Progress | None = None) -> Iterator[Event]:
        """Yield every event in causal order, re-read from its file."""
        handles: dict[int, BinaryIO] = {}
        line_mask = (1 << _LINE_BITS) - 1
        rank_mask = (1 << _RANK_BITS) - 1
        try:
            for done, key in enumerate(self.keys, start=1):
                rank, index = (key >> _LINE_BITS) & rank_mask, key & line_mask
                source = self.sources[rank]
                handle = handles.get(rank)
                if handle is None:
                    handle = handles[rank] = source.path.open("rb")
                handle.seek(source.offsets[index])
                yield _parse(source, index + 1, handle.readline().strip())
                if progress is not None and done % PROGRESS_EVERY == 0:
                    progress("write", done, self.total)
        finally:
            for handle in handles.values():
                handle.close()
        if progress is not None:
            progress("write", self.total, self.total)


def _first_writer(path: Path) -> tuple[str, str]:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip() and line.endswith(b"\n"):
                event = _parse(EventSource(path, "", ""), number, line.strip())
                return event.site, event.agent
    return "", path.stem


def scan_run(run_dir: Path, progress: Progress | None = None) -> CausalTimeline:
    """Read and validate every event of a run once; return its causal timeline.

    A line still being written (the last line of a file, without its newline) is left
    out and its source marked ``torn_tail``; blank lines are skipped.

    Raises:
        ChiaUsageError: If ``run_dir`` is missing or holds no events file.
        MalformedEventLineError: For any other line that is not a valid event.
    """
    if not run_dir.is_dir():
        raise ChiaUsageError(f"no run directory {str(run_dir)!r}")
    paths = _event_files(run_dir)
    if not paths:
        raise ChiaUsageError(f"{run_dir}: no events files (<site>/events/*.jsonl)")
    writers = sorted((_first_writer(path), str(path)) for path in paths)
    sources = [EventSource(Path(path), site, writer) for (site, writer), path in writers]
    if len(sources) >= 1 << _RANK_BITS:
        raise ChiaUsageError(f"{run_dir}: too many events files ({len(sources)})")
    keys: list[int] = []
    origin_us: int | None = None
    for rank, source in enumerate(sources):
        offsets = source.offsets
        with source.path.open("rb") as handle:
            for offset, raw, complete in _lines(handle):
                number = len(offsets)
                line = raw.strip()
                if not complete:
                    source.torn_tail = bool(line)
                    break
                offsets.append(offset)
                if not line:
                    continue
                event = _parse(source, number + 1, line)
                stamp = (event.timestamp - _EPOCH) // _US
                origin_us = stamp if origin_us is None else min(origin_us, stamp)
                keys.append(
                    (event.clock << (_TIME_BITS + _RANK_BITS + _LINE_BITS))
                    | (stamp << (_RANK_BITS + _LINE_BITS))
                    | (rank << _LINE_BITS)
                    | number
                )
                if progress is not None and len(keys) % PROGRESS_EVERY == 0:
                    progress("scan", len(keys), 0)
    keys.sort()
    if progress is not None:
        progress("scan", len(keys), len(keys))
    return CausalTimeline(run_dir, sources, keys, origin_us or 0)
