"""Fixtures shared by every test: running the CLI as a user would, and sample files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chia.exchange.server import ExchangeServer
from chia.testing import RedisServer, http_exchange, redis_server

REPO_ROOT = Path(__file__).resolve().parents[1]
CHIA = str(Path(sys.executable).parent / "chia")


def run_chia(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``chia`` console script and capture its output.

    ``env`` is added to this process's environment; to remove a variable, pass a full
    environment without it (anything holding ``PATH`` is taken as complete).
    """
    full = env if env is not None and "PATH" in env else {**os.environ, **(env or {})}
    return subprocess.run(
        [CHIA, *args],
        capture_output=True,
        text=True,
        env=full,
        cwd=cwd,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def chia() -> Callable[..., subprocess.CompletedProcess[str]]:
    """The ``chia`` command, run in a subprocess."""
    return run_chia


@pytest.fixture
def federated_chat_dir() -> Path:
    """The packaged federated-chat campaign directory in this checkout."""
    return REPO_ROOT / "campaigns" / "federated-chat"


@pytest.fixture(scope="session")
def redis() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, for the whole session."""
    with redis_server() as server:
        yield server


@pytest.fixture(scope="session")
def http_server() -> Iterator[ExchangeServer]:
    """A real self-hosted Academy HTTP exchange on a free loopback port, for the session."""
    with http_exchange() as server:
        yield server
