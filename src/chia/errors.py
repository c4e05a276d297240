"""Errors that the CLI turns into one clear line and the error's ``exit_code``.

Library code raises these for what a user can act on: bad input (a missing file, a syntax
error, an unknown key, a bad name: exit code 2), a peer that never answered (2), or a run
that cannot go on (1). Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

__all__ = ["ChiaError", "ChiaUsageError", "PeerTimeoutError"]


class ChiaError(Exception):
    """Base class for every error chia reports to a user without a traceback."""

    exit_code = 1


class ChiaUsageError(ChiaError, ValueError):
    """Bad input from the user: a file, a name, a flag or a value that cannot be used."""

    exit_code = 2


class PeerTimeoutError(ChiaError, TimeoutError):
    """A peer or recipient never answered within its timeout (the message names which)."""

    exit_code = 2
