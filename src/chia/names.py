"""The one rule for run ids, site names and agent names, and ids."""

from __future__ import annotations

import itertools
import os
import re

from chia.errors import ChiaUsageError

__all__ = ["NAME_PATTERN", "check_name", "is_valid_name", "random_id"]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
_NAME_RE = re.compile(NAME_PATTERN)


def is_valid_name(value: str) -> bool:
    """Return True when ``value`` is a valid run id, site name or agent name."""
    return bool(_NAME_RE.fullmatch(value))


def check_name(value: str, what: str = "name") -> str:
    """Return ``value`` unchanged, or raise naming the bad value.

    Args:
        value: The candidate name.
        what: What the name is for ("run id", "site", "agent"), used in the message.

    Raises:
        ChiaUsageError: If ``value`` does not match ``NAME_PATTERN``.
    """
    if not is_valid_name(value):
        raise ChiaUsageError(
            f"invalid {what} {value!r}: use 1-64 characters from A-Z a-z 0-9 . _ -, "
            "starting with a letter or digit"
        )
    return value


class _IdSource:
    """Unique ids without a system call each: a random per-process prefix and a counter.

    The prefix (64 random bits from the OS) is drawn again in a forked child, so parent
    and child never share a sequence.
    """

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count()

    def next(self) -> str:
        return f"{self._prefix}{next(self._counter):016x}"


_IDS = _IdSource()


def random_id() -> str:
    """A fresh unique id: 32 lowercase hex digits (the shape of ``uuid4().hex``).

    64 random bits drawn once per process, then a 64-bit counter. Message and event ids
    are made on every message, so no id costs a system call (``uuid4`` reads the OS's
    random source each time); two processes collide only if their random prefixes do.
    """
    return _IDS.next()
