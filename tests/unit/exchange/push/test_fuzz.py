"""Hypothesis throws generated frames at a real push server: it answers, and never dies.

Frames are plausible ones (known ops, fields of any JSON type, any text) and arbitrary
text and bytes, sent on a bound connection and on one that never said hello. After each
batch, both a bystander and the fuzzed connection itself must still be served.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chia.exchange.push.protocol import CLIENT_OPS, PROTOCOL_VERSION

from .test_server import raw, send, server

JSON: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=8,
)
FIELD_NAMES = sorted({name for fields in CLIENT_OPS.values() for name in fields} | {"name"})
OBJECTS = st.dictionaries(st.sampled_from(FIELD_NAMES), JSON, max_size=7).flatmap(
    lambda fields: st.sampled_from([*CLIENT_OPS, "deliver", "reply", "bogus"]).map(
        lambda op: {**fields, "op": op}
    )
)
FRAMES = st.one_of(
    OBJECTS.map(json.dumps),
    JSON.map(json.dumps),
    st.text(max_size=64),
    st.binary(max_size=64),
)


async def _throw(frames: list[str | bytes]) -> None:
    async with (
        server(max_message_bytes=2048) as url,
        raw(url, "alice") as alice,
        aiohttp.ClientSession() as session,
        session.ws_connect(url) as stranger,
    ):
        for frame in frames:
            for ws in (alice.ws, stranger):
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(frame)
        # Served afterwards: a fresh bystander, and (unless its own frames made it
        # hang up, as another protocol version does) alice herself.
        async with raw(url, "bob") as bob:
            assert (await bob.ask(send("bob", "still here", rid=77)))["id"] == 77
        if not alice.ws.closed:
            await alice.ws.send_str(json.dumps({"op": "heartbeat", "id": 123456}))
            while True:
                message = await alice.ws.receive(timeout=10)
                if message.type != aiohttp.WSMsgType.TEXT:
                    break  # closed by one of its own frames (a hello of another version)
                if json.loads(message.data).get("id") == 123456:
                    break


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(FRAMES, min_size=1, max_size=12))
def test_generated_frames_never_stop_the_server(frames: list[str | bytes]) -> None:
    logger = logging.getLogger("chia.exchange.push")
    handler = _Lines()
    logger.addHandler(handler)
    try:
        asyncio.run(_throw(frames))
    finally:
        logger.removeHandler(handler)
    # One line per bad frame per connection at most (plus one per dropped socket).
    assert len(handler.lines) <= 2 * len(frames) + 2, handler.lines
    assert all("\n" not in line for line in handler.lines)


def test_hello_of_another_version_is_generated_too() -> None:
    """The strategies can produce the one frame that disconnects (so the test sees it)."""
    hello = {"op": "hello", "v": PROTOCOL_VERSION + 1, "mailbox": "m", "role": "user"}
    asyncio.run(_throw([json.dumps(hello)]))
