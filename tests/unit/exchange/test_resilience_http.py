"""The reconnecting wrapper against the self-hosted HTTP exchange (redis backend) restarted.

The server (``ExchangeServer(backend="redis")``, a child process) is SIGKILLed and started
again on the same fixed port, over the same AOF redis-server, which keeps its mailboxes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from academy.handle import Handle
from academy.runtime import Runtime

from chia.exchange import open_factory, register_agent, runtime_config
from chia.exchange.client import user_client
from chia.exchange.server import ExchangeServer
from chia.testing import RedisServer, free_port, redis_server

from .test_resilience import Counter, hosted


@pytest.fixture
def aof_redis() -> Iterator[RedisServer]:
    """A redis-server of this test only, persisting every write to its AOF."""
    with redis_server(appendonly=True, appendfsync="always") as server:
        yield server


@pytest.fixture
def server(aof_redis: RedisServer) -> Iterator[ExchangeServer]:
    """A self-hosted HTTP exchange on a fixed free port, over the AOF redis-server."""
    with ExchangeServer(backend="redis", redis_url=aof_redis.url(1), port=free_port()) as srv:
        yield srv


def kill(server: ExchangeServer) -> None:
    """SIGKILL the server process (no graceful close of its streams), and reap it."""
    assert server.pid is not None
    with contextlib.suppress(ProcessLookupError):
        os.kill(server.pid, signal.SIGKILL)
    server.stop()


async def test_agent_keeps_answering_across_an_exchange_server_restart(
    server: ExchangeServer,
) -> None:
    lost: list[str] = []
    restored: list[float] = []
    url = server.url
    factory = open_factory(server.settings(), on_lost=lost.append, on_restored=restored.append)
    async with hosted(factory, f"h-{uuid.uuid4().hex[:8]}") as runtime, user_client(factory):
        handle: Handle[Any] = Handle(runtime.agent_id)
        assert await asyncio.wait_for(handle.bump(1), 30) == 1
        await asyncio.to_thread(kill, server)
        during = asyncio.create_task(handle.bump(10))
        await asyncio.sleep(1.0)
        assert not during.done()
        # From this thread: the server's lifeline ties it to the thread that starts it.
        assert server.start() == url  # same port
        assert await asyncio.wait_for(during, 60) == 11
        assert await asyncio.wait_for(handle.bump(100), 30) == 111
        listener = runtime._exchange_listener_task
        assert listener is not None and not listener.done()
    assert len(lost) == 1, lost
    assert len(restored) == 1, restored


async def test_a_request_queued_before_both_restart_is_answered(
    server: ExchangeServer, aof_redis: RedisServer
) -> None:
    factory = open_factory(server.settings())
    async with user_client(factory, name="host") as client:
        registration = await register_agent(client, Counter, f"q-{uuid.uuid4().hex[:8]}", "c")
    async with user_client(factory, name="caller"):
        handle: Handle[Any] = Handle(registration.agent_id)
        queued = asyncio.create_task(handle.bump(7))
        await asyncio.sleep(0.5)
        # The exchange server and its redis-server both go away and come back.
        await asyncio.to_thread(kill, server)
        await asyncio.to_thread(aof_redis.restart, signal.SIGKILL, 0.2)
        server.start()  # from this thread (the lifeline follows the starting thread)
        runtime = Runtime(
            Counter(), exchange_factory=factory, registration=registration, config=runtime_config()
        )
        async with runtime:
            assert await asyncio.wait_for(queued, 60) == 7


async def test_redis_restarting_under_a_running_server(
    server: ExchangeServer, aof_redis: RedisServer
) -> None:
    factory = open_factory(server.settings())
    async with hosted(factory, f"b-{uuid.uuid4().hex[:8]}") as runtime, user_client(factory):
        handle: Handle[Any] = Handle(runtime.agent_id)
        assert await asyncio.wait_for(handle.bump(1), 30) == 1
        # The server holds the requests (and the open listen stream) instead of failing.
        await asyncio.to_thread(aof_redis.kill)
        during = asyncio.create_task(handle.bump(2))
        await asyncio.sleep(2.0)
        await asyncio.to_thread(aof_redis.start)
        assert await asyncio.wait_for(during, 60) == 3
        assert await asyncio.wait_for(handle.bump(4), 30) == 7
    log = server.log_path.read_text()
    assert "redis backend" in log and "lost (ConnectionError" in log, log
    assert "back after" in log, log
    assert "Error handling request" not in log, log
