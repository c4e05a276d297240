"""Errors that the CLI turns into one clear line and exit code 2.

Library code raises these for bad input (a missing file, a syntax error, an unknown key,
a bad name, a peer that never answered). Anything else is a bug and keeps its traceback.
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
