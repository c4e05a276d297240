"""The push exchange server: one aiohttp WebSocket per client, mailboxes in memory.

Messages are pushed to a mailbox's listener as they arrive (no polling), in the order
each sender's frames reached the server (one connection's frames are handled in order).
A mailbox without a listener keeps its messages until one attaches (see
:mod:`chia.exchange.push.mailboxes`). Bad input never stops the server: a malformed
frame gets an ``error`` frame and one log line, and the connection keeps working; only a
client of another protocol version is disconnected (after being told why).

The shared token (``$CHIA_EXCHANGE_TOKEN``) is checked on the WebSocket upgrade, as the
HTTP exchange checks it on every request; binding a non-loopback address requires one
unless ``insecure`` (:func:`chia.exchange.server.check_bind`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from chia.exchange.push.mailboxes import MemoryStore
from chia.exchange.push.protocol import (
    DEFAULT_MAX_MESSAGE_BYTES,
    PATH,
    PROTOCOL_VERSION,
    ErrorCode,
    Frame,
    FrameError,
    deliver_frame,
    error_frame,
    parse_frame,
    reply_frame,
)
from chia.exchange.server import check_bind
from chia.interrupts import note_signal

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["create_app", "serve_push"]

logger = logging.getLogger("chia.exchange.push")

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Frames up to this many times the message limit get a clean ``too_large`` answer;
#: larger ones are cut off by aiohttp (close code 1009) before they are buffered whole.
_HARD_CAP_FACTOR = 4


class _Connection:
    """One client's WebSocket: its bound mailbox, its requests and its pushes."""

    def __init__(self, ws: web.WebSocketResponse, store: MemoryStore, limit: int, peer: str):
        self.ws = ws
        self.store = store
        self.limit = limit
        self.peer = peer
        self.mailbox: str | None = None
        self._wake = asyncio.Event()
        self._terminated = False
        self._pusher: asyncio.Task[None] | None = None

    # Listener protocol (called by the store).
    def wake(self) -> None:
        self._wake.set()

    def terminated(self) -> None:
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
            for seq, msg in self.store.take(self.mailbox, self):
                await self.ws.send_str(deliver_frame(seq, msg))

    async def on_text(self, text: str) -> None:
        """Handle one text frame; answer an error frame for anything wrong with it."""
        frame: Frame | None = None
        try:
            frame = parse_frame(text)
            answer = self._hello(frame) if frame.op == "hello" else self._dispatch(frame)
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

    def _hello(self, frame: Frame) -> str:
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
            self.store.ensure(fields["mailbox"], fields["role"], name)
        self.mailbox = fields["mailbox"]
        return f'{{"op":"welcome","v":{PROTOCOL_VERSION},"max_message_bytes":{self.limit}}}'

    def _dispatch(self, frame: Frame) -> str | None:
        mailbox = self.mailbox
        if mailbox is None:
            raise FrameError(ErrorCode.NOT_BOUND, "send hello first", frame.request_id)
        fields, store = frame.fields, self.store
        rid = fields.get("id", 0)
        op = frame.op
        if op == "send":
            msg: str = fields["msg"]
            self._check_size(msg, rid)
            store.send(fields["dest"], fields["src"], fields["kind"], fields["tag"], msg)
            return f'{{"op":"reply","id":{rid}}}'
        if op == "ack":
            store.ack(mailbox, self, fields["upto"])
            return None
        if op == "listen":
            store.attach(mailbox, self)
            if self._pusher is None:
                self._pusher = asyncio.create_task(self._push())
            return reply_frame(rid)
        if op == "heartbeat":
            store.heartbeat(mailbox)
            return reply_frame(rid)
        if op == "status":
            state, age = store.status(fields["uid"])
            return reply_frame(rid, state=state, age=age)
        if op == "register":
            name = fields.get("name") if isinstance(fields.get("name"), str) else None
            if not all(isinstance(item, str) for item in fields["mro"]):
                raise FrameError(ErrorCode.BAD_FRAME, "register: mro is not a list of strings")
            store.ensure(fields["uid"], "agent", name, fields["mro"])
            return reply_frame(rid)
        if op == "discover":
            found = store.discover(fields["agent"], fields["subclasses"])
            return reply_frame(rid, agents=found)
        if op == "terminate":
            return reply_frame(rid, pending=store.terminate(fields["uid"]))
        if op == "stats":
            return reply_frame(rid, stats=store.stats(fields["uid"]))
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

    def close(self) -> None:
        if self.mailbox is not None:
            self.store.detach(self.mailbox, self)
        if self._pusher is not None:
            self._pusher.cancel()


def create_app(
    *, token: str | None = None, max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
) -> web.Application:
    """Build the push exchange's aiohttp application (one in-memory store).

    Args:
        token: Shared token the upgrade request must carry as ``Authorization: Bearer``;
            None disables the check.
        max_message_bytes: Largest Academy message accepted.
    """
    import aiohttp
    from aiohttp import web

    store = MemoryStore()
    expected = f"Bearer {token}".encode() if token else None

    async def handle(request: web.Request) -> web.StreamResponse:
        peer = request.remote or "?"
        if expected is not None:
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                logger.warning("push exchange: refused %s: missing or wrong token", peer)
                return web.Response(status=401, text="missing or wrong exchange token")
        ws = web.WebSocketResponse(
            max_msg_size=max_message_bytes * _HARD_CAP_FACTOR + 65536, heartbeat=30.0
        )
        await ws.prepare(request)
        conn = _Connection(ws, store, max_message_bytes, peer)
        try:
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    await conn.on_text(message.data)
                elif message.type == aiohttp.WSMsgType.BINARY:
                    logger.warning("push exchange: binary frame from %s", peer)
                    await ws.send_str(
                        error_frame(ErrorCode.BAD_FRAME, "binary frames are refused: send JSON")
                    )
        except (ConnectionError, asyncio.CancelledError):
            pass  # the client went away mid-answer; its unacked messages are requeued
        finally:
            conn.close()
        if ws.exception() is not None:
            logger.warning("push exchange: connection from %s ended: %s", peer, ws.exception())
        return ws

    app = web.Application()
    app.router.add_get(PATH, handle)
    return app


async def serve_push(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    insecure: bool = False,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    on_ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
) -> int | None:
    """Serve the push exchange until ``stop`` is set or SIGINT/SIGTERM/SIGHUP arrives.

    Args:
        host: Address to bind (loopback by default).
        port: Port to bind; 0 picks a free one (reported to ``on_ready``).
        token: Shared token clients must send; None disables the check.
        insecure: Allow a non-loopback bind without a token.
        max_message_bytes: Largest Academy message accepted.
        on_ready: Called with ``ws://host:port`` once connections are accepted.
        stop: Event that stops the server when set (signals set it too).

    Returns:
        The signal that stopped the server, or None when ``stop`` was set.

    Raises:
        ChiaUsageError: For a non-loopback bind without a token.
    """
    from aiohttp import web

    check_bind(host, token, insecure)
    app = create_app(token=token, max_message_bytes=max_message_bytes)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    stop = stop if stop is not None else asyncio.Event()
    loop = asyncio.get_running_loop()
    stopped_by: list[int] = []

    def on_signal(signum: int) -> None:
        note_signal(signum)
        stopped_by.append(signum)
        stop.set()

    previous = {signum: signal.getsignal(signum) for signum in _STOP_SIGNALS}
    for signum in _STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, on_signal, signum)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
        if on_ready is not None:
            on_ready(f"ws://{shown}:{bound_port}")
        await stop.wait()
    finally:
        await runner.cleanup()
        sock.close()
        for signum, handler in previous.items():
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                if loop.remove_signal_handler(signum) and handler is not None:
                    signal.signal(signum, handler)
    return stopped_by[0] if stopped_by else None
