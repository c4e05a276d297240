"""Append events to the writer's own JSONL file (one writer per file, never shared)."""

from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import pydantic_core

from chia.events.clock import LamportClock
from chia.events.model import SCHEMA_VERSION, EventBase
from chia.names import random_id

__all__ = ["SITE_WRITER", "EventWriter", "events_path"]

SITE_WRITER = "_site"
"""The writer name of a site's own events (spawn, kickoff, exits), next to its agents'."""

E = TypeVar("E", bound=EventBase)


@functools.cache
def _kind_name(kind: type[EventBase]) -> str:
    """The ``kind`` literal an event class writes."""
    name: str = kind.model_fields["kind"].default
    return name


def events_path(site_dir: Path, writer: str) -> Path:
    """Return ``<site_dir>/events/<writer>.jsonl``."""
    return site_dir / "events" / f"{writer}.jsonl"


class EventWriter:
    """Builds events with the run's header fields and appends each as one flushed line.

    Every line goes out in a single ``write`` on an ``O_APPEND`` descriptor, so a reader
    sees whole lines or a torn tail, never interleaved bytes; lines emitted inside
    :meth:`atomic` go out together in one ``write``, so a killed process leaves all of
    them or none. Safe to call from threads.

    Args:
        path: The writer's own file; its directory is created.
        run_id: The run id stamped on every event.
        site: The site name stamped on every event.
        writer: The agent (or site writer) name stamped as ``agent``.
        clock: The Lamport clock to tick; a new one starts at 0 by default.
    """

    def __init__(
        self, path: Path, *, run_id: str, site: str, writer: str, clock: LamportClock | None = None
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.run_id = run_id
        self.site = site
        self.writer = writer
        self.clock = clock or LamportClock()
        self._header = {
            "schema_version": SCHEMA_VERSION,
            "run_id": run_id,
            "site": site,
            "agent": writer,
        }
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._lock = threading.RLock()
        self._batch: list[bytes] | None = None
        self.writes = 0

    def fileno(self) -> int:
        """The descriptor lines are appended to (for fsync)."""
        return self._fd

    def _append(self, line: bytes) -> None:
        """Write one line now, or hold it for the enclosing :meth:`atomic` block."""
        if self._batch is not None:
            self._batch.append(line)
            return
        os.write(self._fd, line)
        self.writes += 1

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """Hold every line emitted in the block and append them all in one ``write``.

        A turn's sends and its decision are committed this way: a process killed at any
        instant leaves either every line of the block in the file or none of them.
        Nothing is written if the block raises. Other threads wait until the block ends.
        """
        with self._lock:
            if self._batch is not None:  # nested: the outer block writes
                yield
                return
            self._batch = []
            try:
                yield
                lines = b"".join(self._batch)
            finally:
                self._batch = None
            if lines:
                os.write(self._fd, lines)
                self.writes += 1

    def emit(self, kind: type[E], /, *, clock: int | None = None, **fields: Any) -> E:
        """Construct an event of ``kind`` and append it.

        Args:
            kind: The event class; only declared kinds exist.
            clock: An explicit Lamport time (e.g. from ``clock.observe`` on receipt);
                by default the writer's clock ticks.
            **fields: The kind's own fields.

        Returns:
            The event as written.
        """
        with self._lock:
            event = kind(
                run_id=self.run_id,
                site=self.site,
                agent=self.writer,
                clock=self.clock.tick() if clock is None else clock,
                **fields,
            )
            self._append(event.__pydantic_serializer__.to_json(event) + b"\n")
            return event

    def emit_trusted(
        self, kind: type[EventBase], fields: Mapping[str, Any], /, *, clock: int
    ) -> None:
        """Append an event of ``kind`` from fields that are valid already, building no model.

        For the per-message hot path, where every field is copied from a model that was
        just validated (a message :class:`~chia.agent.envelope.Envelope`): the line is
        the one :meth:`emit` would write, at half the cost. Anything else uses ``emit``.

        Args:
            kind: The event class; its ``kind`` literal is written.
            fields: The kind's own fields, each already of its declared type.
            clock: The event's Lamport time.
        """
        event = {
            **self._header,
            "event_id": random_id(),
            "timestamp": datetime.now(timezone.utc),
            "clock": clock,
            "kind": _kind_name(kind),
            **fields,
        }
        line = pydantic_core.to_json(event) + b"\n"
        with self._lock:
            self._append(line)

    def close(self) -> None:
        """Close the file; later ``emit`` calls raise."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
