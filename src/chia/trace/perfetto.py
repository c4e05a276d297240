"""A campaign run as a Chrome / Perfetto trace-event JSON file (ui.perfetto.dev opens it).

Layout: one process per site, one thread per writer (the site's own writer first, then
its agents by name), with ``process_name``/``thread_name`` and sort-index metadata so a
site's agents stay together. On each agent's thread:

* a model call (``llm_call``) is a complete slice (``ph: X``) that ends at the event's
  time and lasts its ``latency_s``;
* a sent or received message is a short slice (half a microsecond), and each delivered
  message is a flow arrow (``ph: s`` then ``ph: f``, one id, both bound to the enclosing
  message slice) from the sender's thread to the receiver's;
* a decision turn, and every other event, is an instant (``ph: i``, thread scope).

Events are written in causal order (:mod:`chia.trace.timeline`) with the times they
carry, in microseconds since the run's earliest event. Two corrections keep the picture
causal when clocks disagree, each noted in the event's ``args``: a thread's time never
goes backwards (``shifted_us``), and a receipt is placed at least 1 us after its send
(``skew_us``), so no arrow points back in time. Events are written one at a time: the
memory held is the timeline's keys plus the messages sent and not yet received.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from chia.events.model import Decision, Event, LLMCall, MessageReceived, MessageSent
from chia.events.writer import SITE_WRITER
from chia.trace.timeline import CausalTimeline, Progress

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)

__all__ = ["ExportStats", "write_perfetto"]

_US_PER_S = 1_000_000
_BUFFER = 1 << 18
_MAX_ARG = 200  # characters of a string argument kept
_COMMON = {"schema_version", "event_id", "timestamp", "run_id", "site", "agent", "clock", "kind"}
_BULKY = {"content", "details", "arguments", "output", "diff"}


@dataclass
class ExportStats:
    """What an export wrote."""

    events: int = 0
    slices: int = 0
    instants: int = 0
    flows: int = 0
    shifted: int = 0
    skew_adjusted: int = 0
    unmatched_receipts: int = 0
    unreceived_sends: int = 0
    tracks: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class _Thread:
    pid: int
    tid: int
    floor: int = 0  # the earliest time the next event on this thread may take
    llm_end: int = 0  # model calls on one thread never overlap


class _Sink:
    """Buffers serialized events and hands them to ``write`` in large chunks."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write
        self._parts: list[bytes] = []
        self._size = 0
        self._first = True
        self._dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False).encode

    def raw(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)
        if self._size >= _BUFFER:
            self.flush()

    def event(self, event: dict[str, Any]) -> None:
        self.raw((b"\n" if self._first else b",\n") + self._dumps(event).encode())
        self._first = False

    def flush(self) -> None:
        if self._parts:
            self._write(b"".join(self._parts))
            self._parts, self._size = [], 0


def _clip(value: Any) -> Any:
    kind = type(value)
    if kind is str:
        return value if len(value) <= _MAX_ARG else value[:_MAX_ARG] + "…"
    if kind is list:
        return [_clip(item) for item in value[:20]]
    return value


_SKIP = _COMMON | _BULKY


def _args(event: Event) -> dict[str, Any]:
    """The event's own fields, minus the header and bulky text, strings shortened."""
    fields = event.model_dump(mode="json", exclude=_SKIP, exclude_defaults=True)
    args: dict[str, Any] = {"clock": event.clock}
    for key, value in fields.items():
        args[key] = _clip(value) if type(value) in (str, list) else value
    return args


class _Exporter:
    def __init__(self, timeline: CausalTimeline, sink: _Sink) -> None:
        self.origin = timeline.origin_us
        self.sink = sink
        self.stats = ExportStats()
        self.threads: dict[tuple[str, str], _Thread] = {}
        self.sent: dict[str, tuple[int, _Thread]] = {}  # message id -> send time, thread
        self.flow_ids = 0
        sites: dict[str, set[str]] = {}
        for source in timeline.sources:
            if source.site:  # "" for a file without a complete line yet
                sites.setdefault(source.site, set()).add(source.writer)
        self.pids: dict[str, int] = {}
        for site, writers in sorted(sites.items()):
            for writer in sorted(writers, key=lambda w: (w != SITE_WRITER, w)):
                self._thread(site, writer)

    def _thread(self, site: str, writer: str) -> _Thread:
        thread = self.threads.get((site, writer))
        if thread is not None:
            return thread
        pid = self.pids.setdefault(site, len(self.pids) + 1)
        thread = self.threads[(site, writer)] = _Thread(pid, len(self.threads) + 1)
        self.stats.tracks.setdefault(site, []).append(writer)
        base = {"ph": "M", "pid": pid, "tid": thread.tid, "ts": 0}
        if len(self.stats.tracks[site]) == 1:
            self.sink.event({**base, "name": "process_name", "args": {"name": f"site {site}"}})
            self.sink.event({**base, "name": "process_sort_index", "args": {"sort_index": pid}})
        name = "site (launcher)" if writer == SITE_WRITER else writer
        self.sink.event({**base, "name": "thread_name", "args": {"name": name}})
        sort = {"sort_index": thread.tid}
        self.sink.event({**base, "name": "thread_sort_index", "args": sort})
        return thread

    def _anchor(self, thread: _Thread, event: Event, args: dict[str, Any], after: int) -> int:
        """The event's time on its thread: its own, unless causality needs it later.

        ``after`` is the earliest time a receipt may take (1 us after its send).
        """
        own = (event.timestamp - _EPOCH) // _US - self.origin
        anchor = max(own, thread.floor)
        if after > anchor:
            args["skew_us"] = after - own
            self.stats.skew_adjusted += 1
            anchor = after
        elif anchor > own:
            args["shifted_us"] = anchor - own
            self.stats.shifted += 1
        return anchor

    def add(self, event: Event) -> None:
        self.stats.events += 1
        thread = self._thread(event.site, event.agent)
        where = {"pid": thread.pid, "tid": thread.tid}
        args = _args(event)
        if isinstance(event, MessageSent | MessageReceived):
            self._message(event, thread, where, args)
        elif isinstance(event, LLMCall):
            end = self._anchor(thread, event, args, 0)
            start = max(end - round(event.latency_s * _US_PER_S), thread.llm_end)
            thread.floor = thread.llm_end = end
            name = f"{event.provider}:{event.model}" + ("" if event.success else " (failed)")
            self._slice(name, "llm", start, end - start, where, args)
        else:
            ts = thread.floor = self._anchor(thread, event, args, 0)
            if isinstance(event, Decision):
                name = f"decision r{event.round}: {', '.join(event.actions) or 'nothing'}"
            else:
                name = event.kind
            cat = "decision" if isinstance(event, Decision) else "event"
            instant = {"name": name, "cat": cat, "ph": "i", "s": "t", "ts": ts, **where}
            self.sink.event({**instant, "args": args})
            self.stats.instants += 1

    def _slice(
        self, name: str, cat: str, ts: float, dur: float, where: dict[str, int], args: Any
    ) -> None:
        event = {"name": name, "cat": cat, "ph": "X", "ts": ts, "dur": dur, **where, "args": args}
        self.sink.event(event)
        self.stats.slices += 1

    def _message(
        self,
        event: MessageSent | MessageReceived,
        thread: _Thread,
        where: dict[str, int],
        args: dict[str, Any],
    ) -> None:
        if isinstance(event, MessageSent):
            at = self._anchor(thread, event, args, 0)
            self.sent.setdefault(event.message_id, (at, thread))
            name = f"send {event.message_kind} → {event.recipient}"
        else:
            sent = self.sent.pop(event.message_id, None)
            at = self._anchor(thread, event, args, 0 if sent is None else sent[0] + 1)
            name = f"recv {event.message_kind} ← {event.sender}"
        thread.floor = at + 1
        self._slice(name, "message", at + 0.25, 0.5, where, args)
        if isinstance(event, MessageReceived):
            if sent is None:
                self.stats.unmatched_receipts += 1
                return
            self.flow_ids += 1
            flow = {"name": "message", "cat": "message", "id": self.flow_ids}
            source = {"pid": sent[1].pid, "tid": sent[1].tid}
            self.sink.event({**flow, "ph": "s", "ts": sent[0] + 0.5, **source})
            self.sink.event({**flow, "ph": "f", "bp": "e", "ts": at + 0.5, **where})
            self.stats.flows += 1


def write_perfetto(
    timeline: CausalTimeline,
    write: Callable[[bytes], object],
    progress: Progress | None = None,
) -> ExportStats:
    """Write ``timeline`` as one trace-event JSON object, in chunks, to ``write``.

    Args:
        timeline: The run, from :func:`chia.trace.timeline.scan_run`.
        write: Called with successive chunks of the document (e.g. a binary file's write).
        progress: Told how many events are written, every 100,000 and at the end.

    Returns:
        Counts of what was written, and the tracks (site -> writers).
    """
    sink = _Sink(write)
    header = {
        "displayTimeUnit": "ms",
        "otherData": {
            "generator": "chia trace export",
            "run_dir": str(timeline.run_dir),
            "origin_utc": timeline.origin.isoformat(),
            "events": str(timeline.total),
        },
    }
    sink.raw(json.dumps(header, separators=(",", ":"))[:-1].encode() + b',"traceEvents":[')
    exporter = _Exporter(timeline, sink)
    for event in timeline.events(progress):
        exporter.add(event)
    exporter.stats.unreceived_sends = len(exporter.sent)
    sink.raw(b"\n]}\n")
    sink.flush()
    return exporter.stats
