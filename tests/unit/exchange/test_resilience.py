"""The reconnecting exchange wrapper against a real redis-server that goes away.

Each test runs its own AOF redis-server (``appendfsync always``) and SIGKILLs or SIGTERMs
it mid-test, then starts it again on the same port with the same data dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import re
import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import redis.exceptions
from academy.agent import Agent, action
from academy.exception import BadEntityIdError
from academy.exchange import ExchangeFactory
from academy.handle import Handle
from academy.message import Message, PingRequest
from academy.runtime import Runtime

from chia.errors import ChiaError
from chia.exchange import ExchangeSettings, open_factory, register_agent, runtime_config
from chia.exchange.client import user_client
from chia.exchange.health import is_transient, watch_exchange
from chia.exchange.resilience import (
    Backoff,
    ExchangeUnreachableError,
    ResilientFactory,
    ResilientTransport,
)
from chia.testing import RedisServer, free_port, redis_server


class Counter(Agent):
    """Counts the calls it answered."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    @action
    async def bump(self, by: int) -> int:
        """Add ``by`` and return the new count."""
        self.calls += by
        return self.calls


@pytest.fixture
def aof_redis() -> Iterator[RedisServer]:
    """A redis-server of this test only, persisting every write to its AOF."""
    with redis_server(appendonly=True, appendfsync="always") as server:
        yield server


@contextlib.asynccontextmanager
async def hosted(factory: ExchangeFactory[Any], run_id: str) -> AsyncIterator[Runtime[Any]]:
    """Register and run a Counter the way chia hosts agents."""
    async with user_client(factory, name="host") as client:
        registration = await register_agent(client, Counter, run_id, "counter")
    runtime = Runtime(
        Counter(), exchange_factory=factory, registration=registration, config=runtime_config()
    )
    async with runtime:
        yield runtime


@pytest.fixture(params=["redis", "redis-fast"])
def kind(request: pytest.FixtureRequest) -> str:
    """The exchanges over Redis: Academy's, and chia's redis-fast."""
    return str(request.param)


def settings_of(server: RedisServer, kind: str = "redis") -> ExchangeSettings:
    return ExchangeSettings(kind=kind, redis_port=server.port, redis_db=0)  # type: ignore[arg-type]


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
async def test_agent_keeps_answering_across_a_redis_restart(
    aof_redis: RedisServer, kind: str, signum: int
) -> None:
    lost: list[str] = []
    restored: list[float] = []
    factory = open_factory(
        settings_of(aof_redis, kind), on_lost=lost.append, on_restored=restored.append
    )
    async with hosted(factory, f"r-{uuid.uuid4().hex[:8]}") as runtime, user_client(factory):
        handle: Handle[Any] = Handle(runtime.agent_id)
        assert await asyncio.wait_for(handle.bump(1), 30) == 1
        await asyncio.to_thread(aof_redis.kill, signum)
        # Sent while redis-server is down: the send is retried until it is back.
        during = asyncio.create_task(handle.bump(10))
        await asyncio.sleep(1.0)
        assert not during.done()
        await asyncio.to_thread(aof_redis.start)
        assert await asyncio.wait_for(during, 60) == 11
        assert await asyncio.wait_for(handle.bump(100), 30) == 111
        listener = runtime._exchange_listener_task
        assert listener is not None and not listener.done()
    assert len(lost) == 1, lost
    assert "ConnectionError" in lost[0]
    assert len(restored) == 1 and restored[0] > 0, restored


async def test_a_request_queued_before_the_restart_is_answered_after_it(
    aof_redis: RedisServer,
    kind: str,
) -> None:
    factory = open_factory(settings_of(aof_redis, kind))
    run_id = f"q-{uuid.uuid4().hex[:8]}"
    async with user_client(factory, name="host") as client:
        registration = await register_agent(client, Counter, run_id, "counter")
    async with user_client(factory, name="caller"):
        # The agent is not running yet: the request waits in its Redis mailbox...
        handle: Handle[Any] = Handle(registration.agent_id)
        queued = asyncio.create_task(handle.bump(5))
        await asyncio.sleep(0.5)
        # ...through a SIGKILL of redis-server (the AOF has it, fsynced)...
        await asyncio.to_thread(aof_redis.restart, signal.SIGKILL, 0.5)
        runtime = Runtime(
            Counter(),
            exchange_factory=factory,
            registration=registration,
            config=runtime_config(),
        )
        async with runtime:
            # ...and the agent that starts afterwards answers it, to the caller still waiting.
            assert await asyncio.wait_for(queued, 60) == 5


async def test_user_client_reports_one_outage_and_reconnects_its_listener(
    aof_redis: RedisServer,
    kind: str,
) -> None:
    events: list[str] = []
    factory = open_factory(settings_of(aof_redis, kind))
    stop = watch_exchange(
        factory,
        landmark=events.append,
        on_lost=lambda error: events.append("lost"),
        on_restored=lambda down_s: events.append("restored"),
    )
    async with hosted(factory, f"u-{uuid.uuid4().hex[:8]}") as runtime:
        async with user_client(factory) as client:
            await asyncio.to_thread(aof_redis.restart, signal.SIGKILL, 1.0)
            # The user client's own listener reconnected: a ping's reply reaches it.
            handle: Handle[Any] = Handle(runtime.agent_id, exchange=client, ignore_context=True)
            assert await asyncio.wait_for(handle.ping(), 60) > 0
        stop()
        await asyncio.to_thread(aof_redis.restart, signal.SIGKILL, 0.2)
        await asyncio.sleep(1.0)
    assert len(events) == 4, events  # one outage reported; none after stop()
    assert events[0].startswith("exchange lost (ConnectionError"), events
    assert events[0].endswith("; reconnecting"), events
    assert events[1] == "lost"
    assert re.fullmatch(r"exchange back after \d+\.\ds", events[2]), events
    assert events[3] == "restored"


async def test_a_retried_send_is_delivered_once(aof_redis: RedisServer, kind: str) -> None:
    factory = open_factory(settings_of(aof_redis, kind))
    assert isinstance(factory, ResilientFactory)
    receiver = await factory._create_transport(name="receiver")
    sender = await factory._create_transport(name="sender")
    try:
        first = Message.create(src=sender.mailbox_id, dest=receiver.mailbox_id, body=PingRequest())
        second = Message.create(src=sender.mailbox_id, dest=receiver.mailbox_id, body=PingRequest())
        # What a send retried after its first attempt was applied leaves in the mailbox.
        for message in (first, first, second):
            await sender._inner.send(message)
        stream = receiver.listen()
        got = [await asyncio.wait_for(anext(stream), 10) for _ in range(2)]
        await stream.aclose()
        assert [m.tag for m in got] == [first.tag, second.tag]
    finally:
        await sender.close()
        await receiver.close()


async def test_a_wrong_address_fails_fast_with_a_clear_error() -> None:
    settings = ExchangeSettings(kind="redis", redis_port=free_port())
    factory = open_factory(settings, backoff=Backoff(first_contact_s=1.0))
    with pytest.raises(ExchangeUnreachableError, match="never answered") as caught:
        await factory.create_user_client(start_listener=False)
    assert isinstance(caught.value, ChiaError)
    assert f"127.0.0.1:{settings.redis_port}" in str(caught.value)


async def test_an_outage_longer_than_the_deadline_gives_up(aof_redis: RedisServer) -> None:
    factory = open_factory(settings_of(aof_redis), backoff=Backoff(deadline_s=1.0))
    assert isinstance(factory, ResilientFactory)
    transport = await factory._create_transport(name="t")
    assert isinstance(transport, ResilientTransport)
    try:
        await asyncio.to_thread(aof_redis.kill)
        with pytest.raises(ExchangeUnreachableError, match="did not answer update_heartbeat"):
            await transport.update_heartbeat()
        assert not is_transient(ExchangeUnreachableError("x"))
    finally:
        await transport.close()


async def test_academy_errors_are_not_retried(aof_redis: RedisServer, kind: str) -> None:
    factory = open_factory(settings_of(aof_redis, kind))
    async with user_client(factory) as client:
        unknown: Handle[Any] = Handle(_unknown_agent(), exchange=client, ignore_context=True)
        with pytest.raises(BadEntityIdError):
            await asyncio.wait_for(unknown.ping(), 10)


def _unknown_agent() -> Any:
    from academy.identifier import AgentId

    return AgentId(uid=uuid.uuid4())


def test_transient_errors() -> None:
    assert is_transient(redis.exceptions.ConnectionError("refused"))
    assert is_transient(redis.exceptions.BusyLoadingError("loading the AOF"))
    assert is_transient(ConnectionResetError())
    assert is_transient(aiohttp.ServerDisconnectedError())
    request = aiohttp.RequestInfo(aiohttp.client.URL("http://x"), "GET", {}, None)  # type: ignore[arg-type]
    assert is_transient(aiohttp.ClientResponseError(request, (), status=500))
    assert not is_transient(aiohttp.ClientResponseError(request, (), status=404))
    assert not is_transient(BadEntityIdError(_unknown_agent()))
    assert not is_transient(ValueError("a bug"))


def test_factory_pickles_without_its_subscribers() -> None:
    factory = open_factory(ExchangeSettings(kind="redis", redis_port=7000))
    assert isinstance(factory, ResilientFactory)
    factory.health.subscribe(lambda error: None)
    copy = pickle.loads(pickle.dumps(factory))
    assert isinstance(copy, ResilientFactory)
    assert copy.where == factory.where and copy.backoff == factory.backoff
    assert copy.inner.redis_info.port == 7000


def test_local_is_not_wrapped() -> None:
    factory = open_factory(ExchangeSettings(kind="local"))
    assert not isinstance(factory, ResilientFactory)
    watch_exchange(factory, landmark=print)()  # nothing to watch, nothing fails


class Slow(Agent):
    """Answers after a while (a receive waiting for its fsync, magnified)."""

    @action
    async def slow(self, value: int) -> int:
        """Return ``value`` after 0.5 s."""
        await asyncio.sleep(0.5)
        return value


async def test_an_action_running_at_shutdown_still_answers(aof_redis: RedisServer) -> None:
    factory = open_factory(settings_of(aof_redis))
    async with user_client(factory, name="host") as client:
        registration = await register_agent(client, Slow, f"s-{uuid.uuid4().hex[:8]}", "slow")
    async with user_client(factory, name="caller") as caller:
        runtime = Runtime(
            Slow(), exchange_factory=factory, registration=registration, config=runtime_config()
        )
        async with runtime:
            # The caller's client, not the runtime's (the context inside the runtime).
            handle: Handle[Any] = Handle(
                registration.agent_id, exchange=caller, ignore_context=True
            )
            call = asyncio.create_task(handle.slow(42))
            await asyncio.sleep(0.2)  # the action is running
            runtime.signal_shutdown()
        # The runtime finished the action and its reply went out before the client closed.
        assert await asyncio.wait_for(call, 30) == 42
