"""Server-side views of a big run: aggregates, and filtered pages of the merged timeline.

A campaign of a thousand agents writes millions of events; a browser cannot hold them.
The store keeps every event (as its JSON line, in causal order) and this module answers
what a view needs from them:

* :class:`Aggregates`: per site, per agent and per site pair (sender's site to
  receiver's site): event counts (in all and by kind), message counts, the first and
  last activity, a rate, model calls, tokens and cost (the sum of each ``llm_call``'s
  ``cost_usd``; calls without a price are counted apart, never as 0), and the run's
  total; counted incrementally (each event once, about 3 us).
* :func:`parse_timeline_query` and :func:`timeline_page`: one page of the timeline,
  newest first, filtered by site, agent, kind, text, Lamport clock range or time range,
  with an opaque cursor to the next (older) page. Bad values are a :class:`QueryError`
  (the API answers 400 with its text); the page size is capped at :data:`MAX_PAGE`.
"""

from __future__ import annotations

import base64
import bisect
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chia.events.reader import CausalKey
from chia.events.runs import ModelUsage

__all__ = [
    "DEFAULT_PAGE",
    "MAX_PAGE",
    "Aggregates",
    "QueryError",
    "TimelineQuery",
    "parse_timeline_query",
    "timeline_page",
    "with_seq",
]

#: Events in a page when the query does not say.
DEFAULT_PAGE = 200
#: The most events one page holds (a larger ``limit`` is refused, not truncated).
MAX_PAGE = 5000
#: The longest ``text`` filter.
MAX_TEXT = 200

Entry = tuple[CausalKey, int, bytes]

_KIND = re.compile(rb'"kind":"([a-z_]+)"')
_SENDER = re.compile(rb'"sender":"([^"\\]*)"')
_SENDER_SITE = re.compile(rb'"sender_site":"([^"\\]*)"')
_TOKENS_IN = re.compile(rb'"tokens_in":(\d+)')
_TOKENS_OUT = re.compile(rb'"tokens_out":(\d+)')
_TOKENS_CACHED = re.compile(rb'"tokens_cached":(\d+)')
_COST = re.compile(rb'"cost_usd":([-+.\deE]+)')


def with_seq(entry: Entry) -> bytes:
    """An event's JSON line as served: its arrival number spliced in as ``"seq"``."""
    return b'{"seq":%d,' % entry[1] + entry[2][1:]


class QueryError(ValueError):
    """A query the API cannot answer; its text says which parameter and why (HTTP 400)."""


@dataclass(slots=True)
class _Tally:
    events: int = 0
    first: float = float("inf")
    last: float = float("-inf")
    sent: int = 0
    received: int = 0
    usage: ModelUsage = field(default_factory=ModelUsage)
    kinds: dict[bytes, int] = field(default_factory=dict)

    def merge(self, other: _Tally) -> None:
        self.events += other.events
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)
        self.sent += other.sent
        self.received += other.received
        self.usage.merge(other.usage)
        for kind, count in other.kinds.items():
            self.kinds[kind] = self.kinds.get(kind, 0) + count

    def count_call(self, line: bytes) -> None:
        """Add one ``llm_call`` event's tokens and cost, read from its line."""
        tokens_in, tokens_out, tokens_cached = (_number(p, line) for p in _TOKEN_COUNTS)
        cost = _COST.search(line)
        self.usage.count(
            tokens_in,
            tokens_out,
            tokens_cached,
            float(cost[1]) if cost is not None else None,
            _FAILED not in line,
        )

    def to_json(self) -> dict[str, Any]:
        seen = self.events > 0
        span = self.last - self.first if seen else 0.0
        return {
            "events": self.events,
            "messages_sent": self.sent,
            "messages_received": self.received,
            "tokens_in": self.usage.tokens_in,
            "tokens_out": self.usage.tokens_out,
            "tokens_cached": self.usage.tokens_cached,
            "model_calls": self.usage.calls,
            "cost_usd": round(self.usage.cost_usd, 9),
            "unpriced_calls": self.usage.unpriced_calls,
            "kinds": {kind.decode(): count for kind, count in sorted(self.kinds.items())},
            "first": self.first if seen else None,
            "last": self.last if seen else None,
            "events_per_s": round(self.events / span, 3) if span > 0 else None,
        }


_TOKEN_COUNTS = (_TOKENS_IN, _TOKENS_OUT, _TOKENS_CACHED)
_FAILED = b'"success":false'


def _number(pattern: re.Pattern[bytes], line: bytes) -> int:
    found = pattern.search(line)
    return int(found[1]) if found is not None else 0


@dataclass
class Aggregates:
    """Running tallies of a run's events, per agent (sites are their sum) and site pair."""

    agents: dict[tuple[str, str], _Tally] = field(default_factory=dict)
    pairs: dict[tuple[str, str], int] = field(default_factory=dict)
    _agent_site: dict[str, str] = field(default_factory=dict)

    def add(self, entries: Sequence[Entry]) -> None:
        """Count newly arrived events (any order); a few microseconds per event."""
        agents = self.agents
        for (_, when, site, agent), _, line in entries:
            tally = agents.get((site, agent))
            if tally is None:
                tally = agents[(site, agent)] = _Tally()
                self._agent_site.setdefault(agent, site)
            tally.events += 1
            if when > tally.last:
                tally.last = when
            if when < tally.first:
                tally.first = when
            found = _KIND.search(line)  # one scan per line: the kind decides the rest
            kind = found[1] if found is not None else b"?"
            kinds = tally.kinds
            kinds[kind] = kinds.get(kind, 0) + 1
            if kind == b"message_sent":
                tally.sent += 1
            elif kind == b"message_received":
                tally.received += 1
                self._count_pair(site, line)
            elif kind == b"llm_call":
                tally.count_call(line)

    def _count_pair(self, site: str, line: bytes) -> None:
        found = _SENDER_SITE.search(line)
        if found is not None:
            origin = found[1].decode()
        else:
            sender = _SENDER.search(line)
            origin = self._agent_site.get(sender[1].decode(), "?") if sender else "?"
        pair = (origin, site)
        self.pairs[pair] = self.pairs.get(pair, 0) + 1

    def sites(self) -> dict[str, tuple[_Tally, int]]:
        """Each site's tally (the sum of its agents') and how many agents it has."""
        totals: dict[str, tuple[_Tally, int]] = {}
        for (site, _), tally in self.agents.items():
            total, count = totals.get(site, (_Tally(), 0))
            total.merge(tally)
            totals[site] = (total, count + 1)
        return totals

    def to_json(self, *, top_agents: int | None = None) -> dict[str, Any]:
        """The ``/api/aggregates`` document; ``top_agents`` keeps the busiest agents only."""
        agents = sorted(self.agents.items(), key=lambda item: -item[1].events)
        if top_agents is not None:
            agents = agents[:top_agents]
        sites = sorted(self.sites().items())
        run = _Tally()
        for tally, _ in dict(sites).values():
            run.merge(tally)
        return {
            "run": {"sites": len(sites), "agents": len(self.agents), **run.to_json()},
            "sites": [
                {"site": site, "agents": count, **tally.to_json()} for site, (tally, count) in sites
            ],
            "agents": [{"site": s, "agent": a, **t.to_json()} for (s, a), t in agents],
            "agent_count": len(self.agents),
            "site_pairs": [
                {"from": a, "to": b, "messages": n} for (a, b), n in sorted(self.pairs.items())
            ],
        }


@dataclass(frozen=True)
class TimelineQuery:
    """One timeline request: filters, where to start, and how many events."""

    sites: frozenset[str] = frozenset()
    agents: frozenset[str] = frozenset()
    kinds: frozenset[bytes] = frozenset()
    text: bytes | None = None
    clock_from: int | None = None
    clock_to: int | None = None
    time_from: float | None = None
    time_to: float | None = None
    before: tuple[CausalKey, int] | None = None
    limit: int = DEFAULT_PAGE

    def matches(self, entry: Entry) -> bool:
        """Whether one stored event passes every filter."""
        (clock, when, site, agent), _, line = entry
        if self.sites and site not in self.sites:
            return False
        if self.agents and agent not in self.agents:
            return False
        if self.clock_from is not None and clock < self.clock_from:
            return False
        if self.clock_to is not None and clock > self.clock_to:
            return False
        if self.time_from is not None and when < self.time_from:
            return False
        if self.time_to is not None and when > self.time_to:
            return False
        if self.kinds:
            kind = _KIND.search(line)
            if kind is None or kind[1] not in self.kinds:
                return False
        return self.text is None or self.text in line.lower()


def _names(query: Mapping[str, str], name: str, known: set[str]) -> frozenset[str]:
    raw = query.get(name, "")
    values = frozenset(v for v in raw.split(",") if v)
    unknown = sorted(values - known)
    if unknown:
        shown = ", ".join(sorted(known)[:20]) or "none yet"
        raise QueryError(f"{name}: unknown {', '.join(unknown)} (known: {shown})")
    return values


def _int(query: Mapping[str, str], name: str) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise QueryError(f"{name} must be an integer, got {raw[:40]!r}") from None


def _time(query: Mapping[str, str], name: str) -> float | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise QueryError(
            f"{name} must be seconds since the epoch or an ISO time with a zone, got {raw[:40]!r}"
        ) from None
    if moment.tzinfo is None:
        raise QueryError(f"{name} needs a time zone (e.g. {raw}Z)")
    return moment.timestamp()


def encode_cursor(entry: Entry) -> str:
    """The opaque cursor that resumes a page after ``entry`` (older events next)."""
    (clock, when, site, agent), seq, _ = entry
    raw = json.dumps([clock, when, site, agent, seq], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor(raw: str | None) -> tuple[CausalKey, int] | None:
    if not raw:
        return None
    try:
        padded = raw + "=" * (-len(raw) % 4)
        clock, when, site, agent, seq = json.loads(base64.urlsafe_b64decode(padded))
        key = (int(clock), float(when), str(site), str(agent))
        return key, int(seq)
    except (ValueError, TypeError):
        raise QueryError("before: not a cursor this dashboard gave out") from None


def parse_timeline_query(
    query: Mapping[str, str], *, sites: set[str], agents: set[str], kinds: set[str]
) -> TimelineQuery:
    """Read a timeline request's parameters, refusing what cannot be answered.

    Parameters: ``site``, ``agent``, ``kind`` (comma lists of known values), ``text``
    (case-insensitive, at most :data:`MAX_TEXT` characters), ``clock_from``/``clock_to``,
    ``time_from``/``time_to`` (epoch seconds or ISO with a zone), ``before`` (a cursor)
    and ``limit`` (1 to :data:`MAX_PAGE`).

    Raises:
        QueryError: Naming the parameter and why.
    """
    text = query.get("text") or None
    if text is not None and len(text) > MAX_TEXT:
        raise QueryError(f"text: at most {MAX_TEXT} characters, got {len(text)}")
    limit = _int(query, "limit")
    if limit is not None and not 1 <= limit <= MAX_PAGE:
        raise QueryError(f"limit must be between 1 and {MAX_PAGE}, got {limit}")
    return TimelineQuery(
        sites=_names(query, "site", sites),
        agents=_names(query, "agent", agents),
        kinds=frozenset(k.encode() for k in _names(query, "kind", kinds)),
        text=text.lower().encode() if text is not None else None,
        clock_from=_int(query, "clock_from"),
        clock_to=_int(query, "clock_to"),
        time_from=_time(query, "time_from"),
        time_to=_time(query, "time_to"),
        before=_cursor(query.get("before")),
        limit=limit or DEFAULT_PAGE,
    )


def timeline_page(merged: Sequence[Entry], query: TimelineQuery) -> tuple[list[bytes], str | None]:
    """One page of ``merged`` (causal order), newest first; and the cursor to the next.

    Returns:
        The events' JSON lines, and the ``before`` cursor of the next (older) page, or
        None when this page reaches the start of the run.
    """
    end = len(merged)
    if query.before is not None:
        end = bisect.bisect_left(merged, query.before)  # (key, seq) sorts before its entry
    lines: list[bytes] = []
    index = end - 1
    while index >= 0 and len(lines) < query.limit:
        entry = merged[index]
        if query.matches(entry):
            lines.append(with_seq(entry))
        index -= 1
    more = index >= 0
    return lines, encode_cursor(merged[index + 1]) if more and lines else None
