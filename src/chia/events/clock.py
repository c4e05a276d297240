"""A thread-safe Lamport clock."""

from __future__ import annotations

import threading

__all__ = ["LamportClock"]


class LamportClock:
    """Logical time: ticks on every local event, jumps past every clock it observes."""

    def __init__(self, start: int = 0) -> None:
        self._value = start
        self._lock = threading.Lock()

    @property
    def value(self) -> int:
        """The last issued time."""
        return self._value

    def tick(self) -> int:
        """Advance for a local event (or a send) and return the new time."""
        with self._lock:
            self._value += 1
            return self._value

    def observe(self, remote: int) -> int:
        """Merge a received clock: ``max(local, remote) + 1``, returned."""
        with self._lock:
            self._value = max(self._value, remote) + 1
            return self._value
