"""The redis-fast transport's own guarantees, against a real redis-server.

The exchange matrix (conftest ``KINDS``) runs the shared contract over redis-fast too;
this file covers what is particular to it: blocking listeners woken by a terminate,
unacknowledged messages requeued for the next listener, a takeover, per-run keys.
"""

from __future__ import annotations

import asyncio
import pickle
import uuid
from typing import Any

import pytest
from academy.exception import MailboxTerminatedError, MessageTooLargeError
from academy.message import ActionRequest, Message, PingRequest
from redis.asyncio import Redis

from chia.exchange import ExchangeSettings, open_factory
from chia.exchange.push.client import PushExchangeError
from chia.exchange.redis_fast import KEY_PREFIX, RedisFastExchangeFactory, RedisFastTransport
from chia.testing import RedisServer


def fast(redis: RedisServer, namespace: str | None = None) -> RedisFastExchangeFactory:
    name = namespace or f"t-{uuid.uuid4().hex[:8]}"
    return RedisFastExchangeFactory("127.0.0.1", redis.port, 5, namespace=name)


async def transports(factory: RedisFastExchangeFactory) -> tuple[Any, Any]:
    receiver = await factory._create_transport(name="receiver")
    sender = await factory._create_transport(name="sender")
    return receiver, sender


def ping(sender: Any, receiver: Any) -> Message[Any]:
    return Message.create(src=sender.mailbox_id, dest=receiver.mailbox_id, body=PingRequest())


async def test_a_terminate_wakes_a_blocked_listener(redis: RedisServer) -> None:
    factory = fast(redis)
    receiver, sender = await transports(factory)
    stream = receiver.listen()
    waiting = asyncio.create_task(anext(stream))
    await asyncio.sleep(0.3)  # blocked in BLMOVE
    assert not waiting.done()
    await sender.terminate(receiver.mailbox_id)
    with pytest.raises(MailboxTerminatedError):
        await asyncio.wait_for(waiting, 10)
    await sender.close()
    await receiver.close()


async def test_a_message_taken_but_not_acknowledged_goes_to_the_next_listener(
    redis: RedisServer,
) -> None:
    factory = fast(redis)
    receiver, sender = await transports(factory)
    first, second = ping(sender, receiver), ping(sender, receiver)
    await sender.send(first)
    await sender.send(second)
    stream = receiver.listen()
    assert (await asyncio.wait_for(anext(stream), 10)).tag == first.tag
    # The listener dies before Academy asked for the next one: `first` was never acked.
    await stream.aclose()
    again = receiver.listen()
    tags = [(await asyncio.wait_for(anext(again), 10)).tag for _ in range(2)]
    assert tags == [first.tag, second.tag]
    # Both were taken by now: a third listener gets only what is sent next.
    await again.aclose()
    third = receiver.listen()
    later = ping(sender, receiver)
    await sender.send(later)
    got = [(await asyncio.wait_for(anext(third), 10)).tag]
    await third.aclose()
    assert got in ([second.tag], [later.tag])  # second is acked only by a resumed listen
    await sender.close()
    await receiver.close()


async def test_a_newer_listener_takes_the_mailbox_over(redis: RedisServer) -> None:
    factory = fast(redis)
    receiver, sender = await transports(factory)
    old = receiver.listen()
    first = ping(sender, receiver)
    await sender.send(first)
    assert (await asyncio.wait_for(anext(old), 10)).tag == first.tag
    other: RedisFastTransport = RedisFastTransport(
        receiver.mailbox_id, factory, await factory._shared_store()
    )
    new = other.listen()
    new_first = asyncio.create_task(anext(new))
    await asyncio.sleep(0.2)
    second = ping(sender, receiver)
    await sender.send(second)
    # The old listener may still catch `second`, but gives it back and stops.
    with pytest.raises(PushExchangeError, match="taken over"):
        await asyncio.wait_for(anext(old), 10)
    seen = {(await asyncio.wait_for(new_first, 10)).tag}
    while second.tag not in seen:
        seen.add((await asyncio.wait_for(anext(new), 10)).tag)
    assert second.tag in seen
    await new.aclose()
    for transport in (other, sender, receiver):
        await transport.close()


async def test_keys_are_namespaced_per_run(redis: RedisServer) -> None:
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    # A database no other test writes, emptied first: any key left is this run's.
    client = Redis(port=redis.port, db=13)
    await client.flushdb()
    settings = ExchangeSettings(kind="redis-fast", redis_port=redis.port, redis_db=13)
    assert settings.for_run(run_id).namespace == run_id
    assert ExchangeSettings(kind="redis", redis_port=redis.port).for_run(run_id).namespace == "chia"
    factory = open_factory(settings.for_run(run_id))
    transport = await factory._create_transport(name="someone")
    await transport.close()
    keys = [key.decode() for key in await client.keys("*")]
    await client.aclose()
    assert keys and all(key.startswith(f"{KEY_PREFIX}:{run_id}:") for key in keys), keys


async def test_too_large_a_message_is_refused_before_it_is_sent(redis: RedisServer) -> None:
    factory = RedisFastExchangeFactory("127.0.0.1", redis.port, 5, max_message_bytes=1000)
    receiver, sender = await transports(factory)
    body = ActionRequest(action="x" * 5000, serialization="json")
    message = Message.create(src=sender.mailbox_id, dest=receiver.mailbox_id, body=body)
    with pytest.raises(MessageTooLargeError):
        await sender.send(message)
    await sender.close()
    await receiver.close()


def test_the_factory_pickles_without_connections_or_password(
    redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHIA_REDIS_PASSWORD", "s3cret-value")
    factory = fast(redis, "ns")
    data = pickle.dumps(factory)
    assert b"s3cret-value" not in data
    copy = pickle.loads(data)
    assert (copy.url, copy.prefix) == (factory.url, f"{KEY_PREFIX}:ns")
