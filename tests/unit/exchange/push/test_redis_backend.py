"""Two push servers (``--backend redis``) over one real redis-server share the mailboxes.

Agent and user on different servers talk; a client that reconnects to the other server
gets its queued (and its pushed but unacknowledged) mail; a URL listing both servers
fails over to the live one; mailboxes survive a Redis restart with AOF.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from academy.handle import Handle
from academy.runtime import Runtime

from chia.exchange import agent_id, open_factory, register_agent, runtime_config, user_client
from chia.exchange.push.process import PushServer
from chia.exchange.push.redis_store import RedisStore
from chia.exchange.settings import ExchangeSettings
from chia.testing import RedisServer, redis_server

from .test_server import raw, send


@pytest.fixture
def pair(redis: RedisServer) -> Iterator[tuple[PushServer, PushServer]]:
    """Two ``serve`` processes over one Redis (a fresh key prefix per test)."""
    options: dict[str, Any] = {"backend": "redis", "redis_url": redis.url(db=5)}
    options["redis_prefix"] = f"t-{uuid.uuid4().hex[:8]}"
    with PushServer(**options) as first, PushServer(**options) as second:
        yield first, second


async def test_agent_and_user_on_different_servers_talk(
    pair: tuple[PushServer, PushServer], echo_agent: Any
) -> None:
    first, second = pair
    agent_side, user_side = open_factory(first.settings()), open_factory(second.settings())
    run_id = f"t-{uuid.uuid4().hex[:8]}"
    async with user_client(user_side) as client:
        registration = await register_agent(client, echo_agent, run_id, "crux")
        runtime = Runtime(
            echo_agent(),
            exchange_factory=agent_side,
            registration=registration,
            config=runtime_config(),
        )
        async with runtime:
            handle: Handle[Any] = Handle(agent_id(run_id, "crux"))
            answers = await asyncio.gather(*(handle.echo(i) for i in range(20)))
            assert answers == list(range(20))


async def test_a_client_reconnecting_to_the_other_server_gets_its_mail(
    pair: tuple[PushServer, PushServer],
) -> None:
    url1, url2 = (server.url + "/v1/push" for server in pair)
    async with raw(url2, "bob") as bob:
        async with raw(url1, "alice") as alice:
            assert (await alice.ask({"op": "listen", "id": 1}))["op"] == "reply"
            for i in range(3):
                assert (await bob.ask(send("alice", f"m{i}", rid=i + 1)))["op"] == "reply"
            pushed = [await alice.next() for _ in range(3)]  # across servers
            assert [frame["msg"] for frame in pushed] == ["m0", "m1", "m2"]
            await alice.ws.send_str(f'{{"op":"ack","upto":{pushed[0]["seq"]}}}')
            assert (await alice.ask({"op": "heartbeat", "id": 2}))["op"] == "reply"
        # alice is gone with m1 and m2 unacknowledged; m3 arrives while she is away.
        assert (await bob.ask(send("alice", "m3", rid=9)))["op"] == "reply"
        async with raw(url2, "alice") as again:
            assert (await again.ask({"op": "listen", "id": 1}))["op"] == "reply"
            got = [(await again.next())["msg"] for _ in range(3)]
            assert got == ["m1", "m2", "m3"]


async def test_a_url_listing_both_servers_fails_over_to_the_live_one(
    pair: tuple[PushServer, PushServer], echo_agent: Any
) -> None:
    first, second = pair
    both = ExchangeSettings(kind="push", url=f"{first.url},{second.url}")
    run_id = f"t-{uuid.uuid4().hex[:8]}"
    async with user_client(open_factory(second.settings())) as client:
        registration = await register_agent(client, echo_agent, run_id, "crux")
        handle: Handle[Any] = Handle(agent_id(run_id, "crux"))
        late = asyncio.ensure_future(handle.echo("queued"))  # the agent is not running yet
        first.stop()
        runtime = Runtime(
            echo_agent(),
            exchange_factory=open_factory(both),
            registration=registration,
            config=runtime_config(),
        )
        async with runtime:
            assert await asyncio.wait_for(late, 20) == "queued"


class _Listener:
    def __init__(self) -> None:
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1

    def terminated(self) -> None:
        pass


async def test_mailboxes_survive_a_redis_restart_with_aof() -> None:
    with redis_server(appendonly=True) as server:
        before = RedisStore(server.url())
        await before.start()
        await before.ensure("a", "agent", "a", ["m.A"])
        await before.send("a", "u", "request", "t0", "kept")
        await before.close()
        server.restart()  # SIGKILL: only what the AOF holds comes back
        after = RedisStore(server.url())
        await after.start()
        try:
            listener = _Listener()
            await after.attach("a", listener)
            assert [msg for _, msg in await after.take("a", listener)] == ["kept"]
            assert await after.discover("m.A", True) == [("a", "a")]
        finally:
            await after.close()
