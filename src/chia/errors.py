"""Errors that the CLI turns into one clear line and the error's ``exit_code``.

Library code raises these for what a user can act on: bad input (a missing file, a syntax
error, an unknown key, a bad name: exit code 2), a peer that never answered (2), or a run
that cannot go on (1). Anything else is a bug and keeps its traceback. Errors carry what
they describe as attributes (the file, line and column; the peers that did not answer), so
code that catches one need not parse its message.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

__all__ = ["ChiaError", "ChiaUsageError", "ConfigFileError", "PeerTimeoutError"]


class ChiaError(Exception):
    """Base class for every error chia reports to a user without a traceback."""

    exit_code = 1


class ChiaUsageError(ChiaError, ValueError):
    """Bad input from the user: a file, a name, a flag or a value that cannot be used."""

    exit_code = 2


class ConfigFileError(ChiaUsageError):
    """A campaign, profile or cluster file that cannot be used, and where.

    The message is one line per problem, each ``path: problem`` (``path:line:column:
    problem`` or ``path:line: problem`` as far as the place is known).

    Attributes:
        path: The file (as given).
        problems: What is wrong, one line each, without the path.
        line: The 1-based line of the first problem, if known.
        column: Its 1-based column, if known.
    """

    def __init__(
        self,
        path: str | Path,
        *problems: str,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path = str(path)
        self.problems = problems
        self.line = line
        self.column = column
        where = self.path
        if line is not None:
            where += f":{line}" if column is None else f":{line}:{column}"
        super().__init__("\n".join(f"{where}: {problem}" for problem in problems))


class PeerTimeoutError(ChiaError, TimeoutError):
    """A peer or recipient never answered within its timeout (the message names which).

    Attributes:
        missing: Each peer that did not answer, to the last reason it was not up.
        timeout_s: How long it was waited for, if one wait covered them all.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        missing: Mapping[str, str] | None = None,
        timeout_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.missing = dict(missing or {})
        self.timeout_s = timeout_s
