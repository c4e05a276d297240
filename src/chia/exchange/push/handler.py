"""One client's WebSocket on the push server: its bound mailbox, requests and pushes.

A connection's frames are handled in order (so one sender's messages reach a mailbox in
the order sent); a bad frame gets an ``error`` frame and one log line, and the
connection keeps working; only a client of another protocol version is disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from chia.exchange.push.mailboxes import Store
from chia.exchange.push.protocol import (
    PROTOCOL_VERSION,
    ErrorCode,
    Frame,
    FrameError,
    deliver_frame,
    error_frame,
    parse_frame,
    reply_frame,
)

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["Connection"]

logger = logging.getLogger("chia.exchange.push")


class Connection:
    """One client's WebSocket: its bound mailbox, its requests and its pushes."""

    def __init__(self, ws: web.WebSocketResponse, store: Store, limit: int, peer: str):
        self.ws = ws
        self.store = store
        self.limit = limit
        self.peer = peer
        self.mailbox: str | None = None
        self._wake = asyncio.Event()
        self._terminated = False
        self._pusher: asyncio.Task[None] | None = None

    def wake(self) -> None:
        """Messages wait in the mailbox: the pusher takes and pushes them (Listener)."""
        self._wake.set()

    def terminated(self) -> None:
        """The mailbox was terminated: tell the client, stop pushing (Listener)."""
        self._terminated = True
        self._wake.set()

    async def _push(self) -> None:
        assert self.mailbox is not None
        while not self.ws.closed:
            await self._wake.wait()
            self._wake.clear()
            if self._terminated:
                await self.ws.send_str('{"op":"terminated"}')
                return
            for seq, msg in await self.store.take(self.mailbox, self):
                await self.ws.send_str(deliver_frame(seq, msg))

    async def on_text(self, text: str) -> None:
        """Handle one text frame; answer an error frame for anything wrong with it."""
        frame: Frame | None = None
        try:
            frame = parse_frame(text)
            answer = await (self._hello(frame) if frame.op == "hello" else self._dispatch(frame))
        except FrameError as exc:
            request_id = exc.request_id if exc.request_id is not None else None
            if request_id is None and frame is not None:
                request_id = frame.request_id
            if exc.code not in (ErrorCode.UNKNOWN_MAILBOX, ErrorCode.TERMINATED):
                logger.warning("push exchange: %s from %s: %s", exc.code, self.peer, exc.message)
            await self.ws.send_str(error_frame(exc.code, exc.message, request_id))
            if exc.code == ErrorCode.VERSION:
                await self.ws.close(message=b"protocol version mismatch")
            return
        if answer is not None:
            await self.ws.send_str(answer)

    async def _hello(self, frame: Frame) -> str:
        fields = frame.fields
        if fields["v"] != PROTOCOL_VERSION:
            raise FrameError(
                ErrorCode.VERSION,
                f"client speaks push protocol v{fields['v']}, this server speaks "
                f"v{PROTOCOL_VERSION}: use the same chia version on both ends",
            )
        if self.mailbox is not None:
            raise FrameError(ErrorCode.BAD_FRAME, "hello: this connection is already bound")
        name = fields.get("name") if isinstance(fields.get("name"), str) else None
        if fields.get("ensure") is True:
            await self.store.ensure(fields["mailbox"], fields["role"], name)
        self.mailbox = fields["mailbox"]
        return f'{{"op":"welcome","v":{PROTOCOL_VERSION},"max_message_bytes":{self.limit}}}'

    async def _dispatch(self, frame: Frame) -> str | None:
        mailbox = self.mailbox
        if mailbox is None:
            raise FrameError(ErrorCode.NOT_BOUND, "send hello first", frame.request_id)
        fields, store = frame.fields, self.store
        rid = fields.get("id", 0)
        op = frame.op
        ack = fields.get("ack")
        if op != "ack" and isinstance(ack, int) and not isinstance(ack, bool):
            await store.ack(mailbox, self, ack)  # an ack riding on a request
        if op == "send":
            msg: str = fields["msg"]
            self._check_size(msg, rid)
            await store.send(fields["dest"], fields["src"], fields["kind"], fields["tag"], msg)
            return f'{{"op":"reply","id":{rid}}}'
        if op == "ack":
            await store.ack(mailbox, self, fields["upto"])
            return None
        if op == "listen":
            await store.attach(mailbox, self)
            if self._pusher is None:
                self._pusher = asyncio.create_task(self._push())
            return reply_frame(rid)
        if op == "heartbeat":
            await store.heartbeat(mailbox)
            return reply_frame(rid)
        if op == "status":
            state, age = await store.status(fields["uid"])
            return reply_frame(rid, state=state, age=age)
        if op == "register":
            name = fields.get("name") if isinstance(fields.get("name"), str) else None
            if not all(isinstance(item, str) for item in fields["mro"]):
                raise FrameError(ErrorCode.BAD_FRAME, "register: mro is not a list of strings")
            await store.ensure(fields["uid"], "agent", name, fields["mro"])
            return reply_frame(rid)
        if op == "discover":
            found = await store.discover(fields["agent"], fields["subclasses"])
            return reply_frame(rid, agents=found)
        if op == "terminate":
            return reply_frame(rid, pending=await store.terminate(fields["uid"]))
        if op == "stats":
            return reply_frame(rid, stats=await store.stats(fields["uid"]))
        raise FrameError(ErrorCode.BAD_FRAME, f"{op} is not a request", frame.request_id)

    def _check_size(self, msg: str, rid: int) -> None:
        # A str's UTF-8 size is between its length and 4x it: encode only when unsure.
        if len(msg) * 4 <= self.limit:
            return
        size = len(msg) if len(msg) > self.limit else len(msg.encode())
        if size > self.limit:
            raise FrameError(
                ErrorCode.TOO_LARGE,
                f"message of {size} bytes exceeds this exchange's limit of {self.limit} "
                "bytes (chia exchange serve --max-message-bytes)",
                rid,
            )

    async def close(self) -> None:
        """The socket is gone: stop pushing; unacknowledged messages go back to the queue."""
        if self._pusher is not None:
            self._pusher.cancel()
        if self.mailbox is not None:
            with contextlib.suppress(Exception):  # a lost Redis: its listener entry is stale
                await self.store.detach(self.mailbox, self)
