"""An agent's status: counters bumped in memory, written coalesced; changes of state at once."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal, get_args

from chia.events import AgentStatus, write_snapshot

__all__ = ["Counter", "StatusBook"]

#: The status fields that count things; they change on every message.
Counter = Literal[
    "decisions",
    "messages_sent",
    "messages_received",
    "messages_acked",
    "undelivered",
    "duplicates_dropped",
    "tokens_in",
    "tokens_out",
]
_COUNTERS: tuple[Counter, ...] = get_args(Counter)


class StatusBook:
    """Keeps ``status/<agent>.json`` current without rewriting it on every message.

    Counters are plain integers, bumped in memory and written by :meth:`flush` (the
    agent calls it periodically and at the end). Anything else (state, result, last
    error) is written at once, so a reader never misses a change of state.

    Args:
        path: The agent's status file.
        initial: The status to start from (its counters are taken as the starting counts).
    """

    def __init__(self, path: Path, initial: AgentStatus) -> None:
        self.path = path
        self._fixed = initial
        self._counts: dict[Counter, int] = {name: getattr(initial, name) for name in _COUNTERS}
        self._dirty = True
        self.flush()

    def count(self, name: Counter) -> int:
        """The current value of one counter."""
        return self._counts[name]

    def bump(self, name: Counter, by: int = 1) -> int:
        """Add ``by`` to a counter (written on the next flush); return the new value."""
        self._counts[name] += by
        self._dirty = True
        return self._counts[name]

    def set(self, **changes: Any) -> None:
        """Change non-counter fields (state, result, last_error...) and write at once."""
        self._fixed = self._fixed.model_copy(update=changes)
        self._dirty = True
        self.flush()

    def snapshot(self) -> AgentStatus:
        """The status as of now."""
        update: dict[str, Any] = {name: value for name, value in self._counts.items()}
        update["updated"] = datetime.now(timezone.utc)
        return self._fixed.model_copy(update=update)

    def flush(self) -> None:
        """Write the status file if anything changed since the last write."""
        if self._dirty:
            self._dirty = False
            write_snapshot(self.path, self.snapshot())
