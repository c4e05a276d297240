"""Options that several commands share: exchange and launcher choices, and their help.

The choices are enums here (what typer shows and checks) so that parsing a command line
imports no exchange or launcher code; ``tests/unit/cli/test_options.py`` keeps each equal
to the ``Literal`` type it mirrors (``ExchangeKind``, ``LauncherKind``, ``FsyncMode``).
"""

from __future__ import annotations

from enum import Enum

__all__ = ["EXCHANGE_HELP", "URL_HELP", "ExchangeChoice", "FsyncChoice", "LauncherChoice"]

EXCHANGE_HELP = (
    "Exchange kind: http, redis, redis-fast, local, hybrid, push or globus (default: the "
    "profile's). "
    "Academy's hosted exchange (--exchange-url https://exchange.academy-agents.org/v1) and "
    "globus need a Globus login: `chia exchange login`, once per machine."
)
URL_HELP = (
    "HTTP exchange URL, ws://host:port for push, redis://host:port/db for redis, "
    "redis-fast and hybrid, "
    "or globus://<project-uuid> for globus."
)


class ExchangeChoice(str, Enum):
    """Exchange kinds a user may pick."""

    http = "http"
    redis = "redis"
    redis_fast = "redis-fast"
    local = "local"
    hybrid = "hybrid"
    push = "push"
    globus = "globus"


class FsyncChoice(str, Enum):
    """When a receive event is fsynced before its message is acknowledged."""

    batch = "batch"
    message = "message"
    none = "none"


class LauncherChoice(str, Enum):
    """Launchers a user may pick."""

    local = "local"
    mpiexec = "mpiexec"
    ray = "ray"
