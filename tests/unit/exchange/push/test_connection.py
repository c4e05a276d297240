"""The client socket's acks: carried by the next request, or sent alone soon, or at close.

A real aiohttp WebSocket server on loopback records the frames the client sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from chia.exchange.push.connection import ACK_DELAY_S, Socket


@contextlib.asynccontextmanager
async def recorder() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A WebSocket server answering every request with a reply; yields (url, frames seen)."""
    frames: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            frame = json.loads(message.data)
            frames.append(frame)
            if "id" in frame:
                await ws.send_str(json.dumps({"op": "reply", "id": frame["id"]}))
        return ws

    app = web.Application()
    app.router.add_get("/", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/", frames
    await runner.cleanup()


async def open_socket(url: str) -> Socket:
    session = aiohttp.ClientSession()
    return Socket(session, await session.ws_connect(url))


async def test_an_ack_rides_on_the_next_request() -> None:
    async with recorder() as (url, frames):
        await _test_an_ack_rides_on_the_next_request(url, frames)


async def _test_an_ack_rides_on_the_next_request(url: str, frames: list[dict[str, Any]]) -> None:
    sock = await open_socket(url)
    sock.defer_ack(5)
    await sock.request("heartbeat")
    await asyncio.sleep(ACK_DELAY_S * 5)  # the timer was cancelled: no ack frame follows
    await sock.close()
    assert frames == [{"op": "heartbeat", "id": 1, "ack": 5}]


async def test_an_ack_with_no_request_soon_goes_alone() -> None:
    async with recorder() as (url, frames):
        await _test_an_ack_with_no_request_soon_goes_alone(url, frames)


async def _test_an_ack_with_no_request_soon_goes_alone(
    url: str, frames: list[dict[str, Any]]
) -> None:
    sock = await open_socket(url)
    sock.defer_ack(3)
    sock.defer_ack(4)  # cumulative: only the highest is sent
    for _ in range(100):
        if frames:
            break
        await asyncio.sleep(ACK_DELAY_S)
    await sock.request("heartbeat")
    await sock.close()
    assert frames == [{"op": "ack", "upto": 4}, {"op": "heartbeat", "id": 1}]


async def test_closing_sends_the_pending_ack() -> None:
    async with recorder() as (url, frames):
        await _test_closing_sends_the_pending_ack(url, frames)


async def _test_closing_sends_the_pending_ack(url: str, frames: list[dict[str, Any]]) -> None:
    sock = await open_socket(url)
    sock.defer_ack(9)
    await sock.close()
    for _ in range(100):
        if frames:
            break
        await asyncio.sleep(0.01)
    assert frames == [{"op": "ack", "upto": 9}]
