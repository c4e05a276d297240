"""A checker of Chrome trace-event JSON, as ui.perfetto.dev's importer reads it.

:func:`check_trace` returns every problem it finds (empty for a good trace): the document
is an object with ``traceEvents`` and ``displayTimeUnit``; each event has ``ph``, a
numeric ``ts``, integer ``pid`` and ``tid``, and no array outside its ``args`` (Perfetto's
JSON tokenizer refuses a top-level array in an event); complete events (``X``) have
``dur >= 0`` and nest on their thread (a slice ends inside its parent); metadata events
(``M``) name a process or thread or give a sort index; each flow start (``s``) has
exactly one finish (``f``) with its id, category and name, no earlier than the start,
and both lie inside a slice of their own thread (what "bind to the enclosing slice"
binds to).
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

__all__ = ["TraceSummary", "check_trace"]

_METADATA = {"process_name": "name", "thread_name": "name"}
_SORT = {"process_sort_index", "thread_sort_index"}
_PHASES = set("XBEiIsftMCbenR")


@dataclass
class TraceSummary:
    """What a checked trace holds, and what is wrong with it."""

    problems: list[str] = field(default_factory=list)
    phases: Counter[str] = field(default_factory=Counter)
    processes: dict[int, str] = field(default_factory=dict)
    threads: dict[tuple[int, int], str] = field(default_factory=dict)
    flows: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_event(n: int, event: Any, summary: TraceSummary) -> bool:
    bad = summary.problems.append
    if not isinstance(event, dict):
        bad(f"event {n}: not an object")
        return False
    ph = event.get("ph")
    if not isinstance(ph, str) or ph not in _PHASES:
        bad(f"event {n}: ph {ph!r}")
        return False
    if not _is_num(event.get("ts")) or not _is_int(event.get("pid")):
        bad(f"event {n}: ts {event.get('ts')!r} or pid {event.get('pid')!r} of the wrong type")
        return False
    if not _is_int(event.get("tid")):
        bad(f"event {n}: tid {event.get('tid')!r} is not an integer")
        return False
    if any(isinstance(value, list) for value in event.values()):  # its tokenizer refuses them
        bad(f"event {n}: an array at the top level of an event")
    if ph != "M" and not isinstance(event.get("name"), str):
        bad(f"event {n}: no name")
    if ph == "X" and not (_is_num(event.get("dur")) and event["dur"] >= 0):
        bad(f"event {n}: X with dur {event.get('dur')!r}")
    if ph == "M":
        _check_metadata(n, event, summary)
    return True


def _check_metadata(n: int, event: dict[str, Any], summary: TraceSummary) -> None:
    name, args = event.get("name"), event.get("args")
    if not isinstance(args, dict):
        summary.problems.append(f"event {n}: M without args")
    elif name in _METADATA and isinstance(args.get("name"), str) and args["name"]:
        if name == "process_name":
            summary.processes[event["pid"]] = args["name"]
        else:
            summary.threads[(event["pid"], event["tid"])] = args["name"]
    elif name in _SORT and _is_int(args.get("sort_index")):
        pass
    else:
        summary.problems.append(f"event {n}: malformed metadata {event!r}")


def _check_nesting(slices: dict[tuple[int, int], list[tuple[float, float]]]) -> list[str]:
    problems = []
    for thread, spans in slices.items():
        stack: list[float] = []
        for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
            while stack and stack[-1] <= start:
                stack.pop()
            if stack and end > stack[-1]:
                problems.append(f"thread {thread}: slice [{start}, {end}] overlaps its parent")
            stack.append(end)
    return problems


class _Spans:
    """A thread's slices, to ask quickly whether a time lies inside any of them."""

    def __init__(self, spans: list[tuple[float, float]]) -> None:
        ordered = sorted(spans)
        self.starts = [start for start, _ in ordered]
        self.reach: list[float] = []  # the latest end among the slices up to each one
        for _, end in ordered:
            self.reach.append(max(end, self.reach[-1]) if self.reach else end)

    def covers(self, ts: float) -> bool:
        i = bisect.bisect_right(self.starts, ts) - 1
        return i >= 0 and self.reach[i] >= ts


def check_trace(doc: Any) -> TraceSummary:
    """Check a parsed trace-event document; the summary's ``problems`` lists each fault."""
    summary = TraceSummary()
    bad = summary.problems.append
    if not isinstance(doc, dict) or not isinstance(doc.get("traceEvents"), list):
        bad("not an object with a traceEvents list")
        return summary
    if doc.get("displayTimeUnit") not in {"ms", "ns"}:
        bad(f"displayTimeUnit {doc.get('displayTimeUnit')!r}")
    slices: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)
    starts: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    finishes: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for n, event in enumerate(doc["traceEvents"]):
        if not _check_event(n, event, summary):
            continue
        ph = event["ph"]
        summary.phases[ph] += 1
        thread = (event["pid"], event["tid"])
        if ph == "X" and _is_num(event.get("dur")):
            slices[thread].append((event["ts"], event["ts"] + event["dur"]))
        elif ph in "sf":
            if not _is_int(event.get("id")) and not isinstance(event.get("id"), str):
                bad(f"event {n}: flow without an id")
                continue
            (starts if ph == "s" else finishes)[event["id"]].append(event)
    summary.problems += _check_nesting(slices)
    spans = {thread: _Spans(found) for thread, found in slices.items()}
    nowhere = _Spans([])
    for flow_id in starts.keys() | finishes.keys():
        begun, ended = starts.get(flow_id, []), finishes.get(flow_id, [])
        if len(begun) != 1 or len(ended) != 1:
            bad(f"flow {flow_id}: {len(begun)} start(s), {len(ended)} finish(es)")
            continue
        s, f = begun[0], ended[0]
        if (s.get("cat"), s.get("name")) != (f.get("cat"), f.get("name")):
            bad(f"flow {flow_id}: start and finish differ in cat or name")
        if f["ts"] < s["ts"]:
            bad(f"flow {flow_id}: goes back in time ({s['ts']} -> {f['ts']})")
        for end in (s, f):
            if not spans.get((end["pid"], end["tid"]), nowhere).covers(end["ts"]):
                bad(f"flow {flow_id}: its {end['ph']} at {end['ts']} is in no slice")
        summary.flows.append((s, f))
    return summary
