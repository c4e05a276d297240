"""Real exchanges for the exchange tests: redis-server, self-hosted HTTP and push, local.

`exchange` is parametrized over every kind; each test gets a fresh run id, so tests never
see each other's agents even on the shared (session) servers.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, get_args

import pytest
from academy.agent import Agent, action
from academy.exchange import ExchangeFactory
from academy.runtime import Runtime

from chia.exchange import (
    ExchangeSettings,
    open_factory,
    ping_agent,
    register_agent,
    runtime_config,
)
from chia.exchange.push.process import PushServer
from chia.exchange.server import ExchangeServer
from chia.exchange.settings import ExchangeKind
from chia.testing import RedisServer

#: Every exchange kind but Globus (Academy's hosted service: unreachable here).
KINDS = [kind for kind in get_args(ExchangeKind) if kind != "globus"]


class EchoAgent(Agent):
    """A tiny test agent: its runtime answers pings; `echo` returns its argument."""

    @action
    async def echo(self, value: Any) -> Any:
        """Return ``value`` unchanged."""
        return value


@pytest.fixture
def echo_agent() -> type[EchoAgent]:
    """The test agent class (conftest modules are not importable from tests)."""
    return EchoAgent


# The session's `redis`, `http_server` and `push_server` come from tests/conftest.py.


def settings_for(kind: str, redis: RedisServer, http_server: ExchangeServer) -> ExchangeSettings:
    if kind == "http":
        return http_server.settings()
    if kind in ("redis", "redis-fast", "hybrid"):
        extra = {"hybrid_interface": "lo"} if kind == "hybrid" else {}
        return ExchangeSettings(kind=kind, redis_port=redis.port, redis_db=3, **extra)  # type: ignore[arg-type]
    return ExchangeSettings(kind="local")


@pytest.fixture(params=KINDS)
def settings(
    request: pytest.FixtureRequest, redis: RedisServer, http_server: ExchangeServer
) -> ExchangeSettings:
    if request.param == "push":
        push: PushServer = request.getfixturevalue("push_server")
        return push.settings()
    return settings_for(request.param, redis, http_server)


@pytest.fixture(params=["redis", "redis-fast", "hybrid", "http", "push"])
def remote_settings(
    request: pytest.FixtureRequest, redis: RedisServer, http_server: ExchangeServer
) -> ExchangeSettings:
    """Settings of the exchanges that other processes can reach (not local)."""
    if request.param == "push":
        push: PushServer = request.getfixturevalue("push_server")
        return push.settings()
    return settings_for(request.param, redis, http_server)


@pytest.fixture
def factory(settings: ExchangeSettings) -> ExchangeFactory[Any]:
    """One factory per test (the local exchange lives in it)."""
    return open_factory(settings)


@pytest.fixture
def run_id() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def run_agent(
    factory: ExchangeFactory[Any],
) -> Callable[..., contextlib.AbstractAsyncContextManager[Runtime[Any]]]:
    """`async with run_agent(client, run_id, name):` registers (preset uid) and runs one.

    Leaving the block stops the agent without terminating its mailbox: what a crashed or
    stopped run leaves behind.
    """

    @contextlib.asynccontextmanager
    async def run(client: Any, run_id: str, name: str) -> AsyncIterator[Runtime[Any]]:
        registration = await register_agent(client, EchoAgent, run_id, name)
        runtime = Runtime(
            EchoAgent(),
            exchange_factory=factory,
            registration=registration,
            config=runtime_config(),
        )
        async with runtime:
            # Let the runtime's listener start before a test may stop it: academy 1.0.0
            # orphans the inner listener task if its wrapper task is cancelled before its
            # first step, and on the local exchange that orphan keeps answering pings.
            assert await ping_agent(client, registration.agent_id, timeout_s=10) is not None
            yield runtime

    return run
