"""Both mailbox stores: order, queueing without a listener, requeue of unacked messages.

Every test runs on the memory store and on the Redis store (a real redis-server, one
key prefix per test).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from chia.exchange.push.mailboxes import MemoryStore, Store
from chia.exchange.push.protocol import ErrorCode, FrameError
from chia.exchange.push.redis_store import RedisStore
from chia.testing import RedisServer

# The store fixture is async: its loop (the session's) must be the tests' loop too.
pytestmark = pytest.mark.asyncio(loop_scope="session")


class Recorder:
    def __init__(self) -> None:
        self.woken = 0
        self.ended = False

    def wake(self) -> None:
        self.woken += 1

    def terminated(self) -> None:
        self.ended = True


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest, redis: RedisServer) -> AsyncIterator[Store]:
    made: Store = MemoryStore()
    if request.param == "redis":
        made = RedisStore(redis.url(db=4), prefix=f"t-{uuid.uuid4().hex[:8]}")
    await made.start()
    yield made
    await made.close()


async def test_messages_wait_without_a_listener_and_come_in_order(store: Store) -> None:
    await store.ensure("a", "agent", "a", ["m.A"])
    for i in range(3):
        await store.send("a", "u", "request", f"t{i}", f"m{i}")
    listener = Recorder()
    await store.attach("a", listener)
    assert listener.woken == 1
    assert [msg for _, msg in await store.take("a", listener)] == ["m0", "m1", "m2"]


async def test_unacked_messages_go_back_in_order_for_the_next_listener(store: Store) -> None:
    await store.ensure("a", "agent")
    first, second = Recorder(), Recorder()
    await store.attach("a", first)
    for i in range(4):
        await store.send("a", "u", "request", f"t{i}", f"m{i}")
    taken = await store.take("a", first)
    await store.ack("a", first, taken[1][0])  # m0, m1 delivered
    await store.send("a", "u", "request", "t4", "m4")
    await store.detach("a", first)  # m2, m3 pushed but never acknowledged
    await store.attach("a", second)
    assert [msg for _, msg in await store.take("a", second)] == ["m2", "m3", "m4"]


async def test_unknown_and_terminated_mailboxes_are_refused(store: Store) -> None:
    with pytest.raises(FrameError) as info:
        await store.send("nobody", "u", "request", "t", "m")
    assert info.value.code == ErrorCode.UNKNOWN_MAILBOX
    await store.ensure("a", "agent", "a", ["m.A"])
    await store.send("a", "u", "request", "t", "question")
    listener = Recorder()
    await store.attach("a", listener)
    assert await store.terminate("a") == ["question"]  # the caller answers it
    for _ in range(200):  # the Redis store learns of it through pub/sub
        if listener.ended:
            break
        await asyncio.sleep(0.01)
    assert listener.ended
    assert await store.status("a") == ("terminated", None)
    with pytest.raises(FrameError) as info:
        await store.ensure("a", "agent")
    assert info.value.code == ErrorCode.TERMINATED
    assert await store.discover("m.A", True) == []


async def test_requests_and_answers_are_counted(store: Store) -> None:
    await store.ensure("a", "agent", "a", ["m.B", "m.A"])
    await store.ensure("u", "user")
    await store.send("a", "u", "request", "t1", "q")
    assert (await store.stats("a"))["queued"] == 1
    await store.send("u", "a", "response", "t1", "r")
    stats = await store.stats("a")
    assert (stats["completed"], stats["incoming"]) == (1, 1)
    assert (await store.stats("u"))["outgoing"] == 1
    assert await store.discover("m.A", True) == [("a", "a")]
    assert await store.discover("m.A", False) == []
