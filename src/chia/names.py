"""The one rule for run ids, site names and agent names (DESIGN.md section 4), and ids."""

from __future__ import annotations

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


def random_id() -> str:
    """A fresh random id: 128 bits as 32 lowercase hex digits (like ``uuid4().hex``).

    Message and event ids are made on every message, so this reads the OS's random
    source directly: a quarter of ``uuid4().hex``'s cost, with the same uniqueness.
    """
    return os.urandom(16).hex()
