"""The push server on a real loopback socket: bad input gets an error and nobody else notices.

Clients here are raw aiohttp WebSockets speaking the frames by hand, as a client of
another implementation (or a hostile one) would.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from chia.exchange.push.protocol import PATH, PROTOCOL_VERSION
from chia.exchange.push.server import create_app


@contextlib.asynccontextmanager
async def server(**options: Any) -> AsyncIterator[str]:
    runner = web.AppRunner(create_app(**options))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"ws://127.0.0.1:{runner.addresses[0][1]}{PATH}"
    finally:
        await runner.cleanup()


class Raw:
    """A hand-driven client: send a frame, read the next one."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def ask(self, frame: dict[str, Any] | str) -> dict[str, Any]:
        await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))
        return await self.next()

    async def next(self) -> dict[str, Any]:
        message = await self.ws.receive(timeout=5)
        assert message.type == aiohttp.WSMsgType.TEXT, message
        return json.loads(message.data)  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def raw(url: str, mailbox: str, **headers: str) -> AsyncIterator[Raw]:
    async with aiohttp.ClientSession() as session, session.ws_connect(url, headers=headers) as ws:
        client = Raw(ws)
        hello = {"op": "hello", "v": PROTOCOL_VERSION, "mailbox": mailbox, "role": "user"}
        welcome = await client.ask(hello | {"ensure": True})
        assert welcome["op"] == "welcome", welcome
        yield client


def send(dest: str, msg: str, rid: int = 1) -> dict[str, Any]:
    fields = {"dest": dest, "src": "x", "kind": "request", "tag": "t", "msg": msg}
    return {"op": "send", "id": rid, **fields}


async def test_messages_are_pushed_in_order_after_listen() -> None:
    async with server() as url, raw(url, "alice") as alice, raw(url, "bob") as bob:
        for i in range(5):
            assert (await bob.ask(send("alice", f"m{i}", rid=i + 1)))["id"] == i + 1
        assert (await alice.ask({"op": "listen", "id": 1}))["op"] == "reply"
        got = [await alice.next() for _ in range(5)]
        assert [frame["msg"] for frame in got] == [f"m{i}" for i in range(5)]
        assert [frame["seq"] for frame in got] == [1, 2, 3, 4, 5]


async def test_malformed_frames_get_errors_and_the_connection_keeps_serving() -> None:
    async with server() as url, raw(url, "alice") as alice, raw(url, "bob") as bob:
        for bad in ("{", "[]", '{"op": "nope", "id": 4}', '{"op": "send", "id": 5}'):
            answer = await alice.ask(bad)
            assert answer["op"] == "error" and answer["code"] == "bad_frame", answer
        assert answer["id"] == 5
        await alice.ws.send_bytes(b"\x00\x01")
        assert (await alice.next())["code"] == "bad_frame"
        # Both connections still work.
        assert (await alice.ask(send("bob", "hi")))["op"] == "reply"
        assert (await bob.ask({"op": "status", "id": 9, "uid": "alice"}))["state"] == "active"


async def test_unknown_mailbox_and_oversized_messages_are_named() -> None:
    async with server(max_message_bytes=2048) as url, raw(url, "alice") as alice:
        answer = await alice.ask(send("nobody", "x"))
        assert answer["code"] == "unknown_mailbox"
        answer = await alice.ask(send("alice", "y" * 3000, rid=2))
        assert answer["code"] == "too_large" and answer["id"] == 2
        assert "3000 bytes exceeds this exchange's limit of 2048 bytes" in answer["message"]
        # 1,000 two-byte characters: 2,000 bytes, under the limit (bytes are counted).
        assert (await alice.ask(send("alice", "é" * 1000, rid=3)))["op"] == "reply"
        assert (await alice.ask(send("alice", "é" * 1100, rid=4)))["code"] == "too_large"
        assert (await alice.ask({"op": "heartbeat", "id": 5}))["op"] == "reply"


async def test_another_protocol_version_is_told_and_disconnected() -> None:
    async with server() as url, aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"op": "hello", "v": 99, "mailbox": "m", "role": "user"}))
        answer = json.loads((await ws.receive(timeout=5)).data)
        assert answer["code"] == "version"
        assert "v99" in answer["message"] and f"v{PROTOCOL_VERSION}" in answer["message"]
        assert (await ws.receive(timeout=5)).type in (
            aiohttp.WSMsgType.CLOSE,
            aiohttp.WSMsgType.CLOSED,
        )


async def test_requests_before_hello_are_refused() -> None:
    async with server() as url, aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        await ws.send_str(json.dumps({"op": "heartbeat", "id": 1}))
        answer = json.loads((await ws.receive(timeout=5)).data)
        assert (answer["code"], answer["id"]) == ("not_bound", 1)


async def test_the_token_is_checked_on_the_upgrade() -> None:
    async with server(token="s3cret") as url, aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(url, headers={"Authorization": "Bearer wrong"})
        assert info.value.status == 401
        async with raw(url, "alice", Authorization="Bearer s3cret") as alice:
            assert (await alice.ask({"op": "heartbeat", "id": 1}))["op"] == "reply"


async def test_random_frames_never_stop_the_server() -> None:
    rng = random.Random(13)
    pieces = ['"op"', '"send"', '"hello"', '"ack"', '"id"', "1", "-1", "null", "true", "[", "]"]
    pieces += ["{", "}", ":", ",", '"uid"', '"msg"', '"x"', "1e999", '"\\ud800"']
    async with server() as url, raw(url, "alice") as alice, raw(url, "bob") as bob:
        for _ in range(300):
            frame = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
            await alice.ws.send_str(frame)
        await alice.ws.send_str(json.dumps({"op": "heartbeat", "id": 12345}))
        while (answer := await alice.next()).get("id") != 12345:
            assert answer["op"] in ("error", "reply"), answer
        assert (await bob.ask(send("alice", "still here")))["op"] == "reply"


async def test_a_frame_far_over_the_limit_is_cut_off_and_others_are_served() -> None:
    async with server(max_message_bytes=2048) as url, raw(url, "alice") as alice:
        async with raw(url, "bob") as bob:
            await bob.ws.send_str(json.dumps(send("alice", "z" * 100_000)))
            closing = await bob.ws.receive(timeout=5)
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert bob.ws.close_code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG
        assert (await alice.ask(send("alice", "fine")))["op"] == "reply"


async def test_an_ack_carried_by_a_request_forgets_the_delivered_message() -> None:
    async with server() as url, raw(url, "bob") as bob:
        async with raw(url, "alice") as alice:
            for i in range(2):
                await bob.ask(send("alice", f"m{i}", rid=i + 1))
            assert (await alice.ask({"op": "listen", "id": 1}))["op"] == "reply"
            first, second = await alice.next(), await alice.next()
            # alice's next request acknowledges m0 only; its socket then breaks.
            reply = await alice.ask({"op": "heartbeat", "id": 2, "ack": first["seq"]})
            assert reply == {"op": "reply", "id": 2}
        async with raw(url, "alice") as again:
            assert (await again.ask({"op": "listen", "id": 1}))["op"] == "reply"
            redelivered = await again.next()
    assert redelivered["msg"] == second["msg"] == "m1"  # m0 was not delivered again
