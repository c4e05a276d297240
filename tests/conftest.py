"""Fixtures shared by every test: running the CLI as a user would, and sample files."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from chia.exchange.push.process import PushServer
from chia.exchange.server import ExchangeServer
from chia.testing import RedisServer, http_exchange, redis_server
from chia.testing.sites import CliExchange

REPO_ROOT = Path(__file__).resolve().parents[1]
CHIA = str(Path(sys.executable).parent / "chia")
_RAY_HOME_TOKEN = Path.home() / ".ray" / "auth_token"
_TOKEN_DIR = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Give the session's Ray a token of its own, so that none is left in ``~/.ray``.

    A new local Ray (2.60) turns token auth on by default and, finding no token, writes
    one to ``~/.ray/auth_token``, which then switches every later Ray on this machine to
    token auth. The session runs with token auth as a fresh Ray would, from a token in a
    temp dir (removed at the end). A token the machine already has is used as it is.
    """
    if any(os.environ.get(v) for v in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")):
        return
    if _RAY_HOME_TOKEN.is_file():
        return
    token_dir = Path(tempfile.mkdtemp(prefix="chia-test-ray-token-"))
    (token_dir / "auth_token").write_text(secrets.token_hex(32))
    os.environ["RAY_AUTH_TOKEN_PATH"] = str(token_dir / "auth_token")
    config.stash[_TOKEN_DIR] = token_dir


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the session's Ray token (see :func:`pytest_configure`)."""
    token_dir = config.stash.get(_TOKEN_DIR, None)
    if token_dir is not None:
        shutil.rmtree(token_dir, ignore_errors=True)


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


@pytest.fixture(scope="session")
def push_server() -> Iterator[PushServer]:
    """A real push exchange (``chia exchange serve --transport push``) for the session."""
    with PushServer() as server:
        yield server


#: The exchanges the federation scenarios run over (issue: every one a user may pick).
FEDERATION_KINDS = ["http", "push", "redis-fast"]


@pytest.fixture(params=FEDERATION_KINDS)
def cli_exchange(request: pytest.FixtureRequest, redis: RedisServer) -> CliExchange:
    """A session exchange of each kind, as `--exchange K --exchange-url U` arguments.

    Scenarios put ``cli_exchange.kind`` in their run ids: the servers are shared.
    """
    kind = str(request.param)
    if kind == "http":
        server: ExchangeServer = request.getfixturevalue("http_server")
        return CliExchange(kind, server.url)
    if kind == "push":
        push: PushServer = request.getfixturevalue("push_server")
        return CliExchange(kind, push.url)
    return CliExchange(kind, redis.url(7))


@pytest.fixture
def ssh_control_dir() -> Iterator[Path]:
    """A short private directory for ssh ControlMaster sockets (removed afterwards).

    ``tmp_path`` can be too deep for a Unix socket (pytest-xdist adds a level), and chia
    then moves the socket elsewhere; tests that look for sockets and ssh processes by
    directory give this one instead.
    """
    folder = Path(tempfile.mkdtemp(prefix="ctl-", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
