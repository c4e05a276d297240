"""The push exchange server: one aiohttp WebSocket per client, pushed mailboxes.

Messages are pushed to a mailbox's listener as they arrive (no polling), in the order
each sender's frames reached the server (:mod:`chia.exchange.push.handler`). A mailbox
without a listener keeps its messages until one attaches. Mailboxes live in this
process (:class:`~chia.exchange.push.mailboxes.MemoryStore`) or in Redis
(:class:`~chia.exchange.push.redis_store.RedisStore`), where several servers share them.

The shared token (``$CHIA_EXCHANGE_TOKEN``) is checked on the WebSocket upgrade, as the
HTTP exchange checks it on every request; binding a non-loopback address requires one
unless ``insecure`` (:func:`chia.exchange.server.check_bind`). Given a certificate and
its key, the server speaks TLS (``wss://``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import signal
import socket
import ssl
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from chia.errors import ChiaUsageError
from chia.exchange.push.handler import Connection
from chia.exchange.push.mailboxes import MemoryStore, Store
from chia.exchange.push.protocol import DEFAULT_MAX_MESSAGE_BYTES, PATH, ErrorCode, error_frame
from chia.exchange.server import check_bind
from chia.interrupts import note_signal

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["create_app", "make_store", "serve_push", "server_tls"]

logger = logging.getLogger("chia.exchange.push")

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
#: Frames up to this many times the message limit get a clean ``too_large`` answer;
#: larger ones are cut off by aiohttp (close code 1009) before they are buffered whole.
_HARD_CAP_FACTOR = 4


def create_app(
    *,
    token: str | None = None,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    store: Store | None = None,
) -> web.Application:
    """Build the push exchange's aiohttp application.

    Args:
        token: Shared token the upgrade request must carry as ``Authorization: Bearer``;
            None disables the check.
        max_message_bytes: Largest Academy message accepted.
        store: Where mailboxes live (a new :class:`MemoryStore` if None); the app starts
            and closes it.
    """
    import aiohttp
    from aiohttp import web

    store = store if store is not None else MemoryStore()
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
        conn = Connection(ws, store, max_message_bytes, peer)
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
        except Exception as exc:  # the store failed (Redis down): the client reconnects
            logger.warning("push exchange: dropped %s, the mailbox store failed: %r", peer, exc)
            with contextlib.suppress(Exception):
                await ws.close(code=aiohttp.WSCloseCode.INTERNAL_ERROR, message=b"store failed")
        finally:
            await conn.close()
        if ws.exception() is not None:
            logger.warning("push exchange: connection from %s ended: %s", peer, ws.exception())
        return ws

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        await store.start()
        yield
        await store.close()

    app = web.Application()
    app.router.add_get(PATH, handle)
    app.cleanup_ctx.append(lifecycle)
    return app


def make_store(
    backend: str = "memory", redis_url: str | None = None, redis_prefix: str | None = None
) -> Store:
    """The mailbox store of ``--backend``.

    Args:
        backend: ``memory`` (this process) or ``redis`` (shared by the servers over it).
        redis_url: ``redis://host:port/db`` for ``redis``; the password may come from
            ``$CHIA_REDIS_PASSWORD``.
        redis_prefix: Key prefix in Redis (default ``chia:push``).

    Raises:
        ChiaUsageError: For an unknown backend, or ``redis`` without a URL.
    """
    if backend == "memory":
        return MemoryStore()
    if backend != "redis":
        raise ChiaUsageError(f"unknown --backend {backend!r}: use memory or redis")
    if not redis_url:
        raise ChiaUsageError("--backend redis needs --redis-url redis://host:port/db")
    from chia.exchange.push.redis_store import DEFAULT_PREFIX, RedisStore
    from chia.exchange.settings import REDIS_PASSWORD_ENV

    password = os.environ.get(REDIS_PASSWORD_ENV) or None
    return RedisStore(redis_url, prefix=redis_prefix or DEFAULT_PREFIX, password=password)


def server_tls(cert: Path | None, key: Path | None) -> ssl.SSLContext | None:
    """The TLS context of ``--tls-cert``/``--tls-key`` (None when neither is given).

    Raises:
        ChiaUsageError: If only one is given, or they cannot be loaded.
    """
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        raise ChiaUsageError("TLS needs both --tls-cert and --tls-key")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ChiaUsageError(f"cannot load --tls-cert {cert} / --tls-key {key}: {exc}") from None
    return context


async def serve_push(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    insecure: bool = False,
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    store: Store | None = None,
    tls: ssl.SSLContext | None = None,
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
        store: Where mailboxes live (:func:`make_store`; in memory if None).
        tls: Server TLS context (:func:`server_tls`): the URL is then ``wss://``.
        on_ready: Called with ``ws[s]://host:port`` once connections are accepted.
        stop: Event that stops the server when set (signals set it too).

    Returns:
        The signal that stopped the server, or None when ``stop`` was set.

    Raises:
        ChiaUsageError: For a non-loopback bind without a token.
    """
    from aiohttp import web

    check_bind(host, token, insecure)
    app = create_app(token=token, max_message_bytes=max_message_bytes, store=store)
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
    try:
        await runner.setup()  # starts the store: a Redis that cannot be reached fails here
        await web.SockSite(runner, sock, ssl_context=tls).start()
        bound_host, bound_port = sock.getsockname()[:2]
        shown = f"[{bound_host}]" if family == socket.AF_INET6 else bound_host
        if on_ready is not None:
            on_ready(f"{'wss' if tls else 'ws'}://{shown}:{bound_port}")
        await stop.wait()
    finally:
        await runner.cleanup()
        sock.close()
        for signum, handler in previous.items():
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                if loop.remove_signal_handler(signum) and handler is not None:
                    signal.signal(signum, handler)
    return stopped_by[0] if stopped_by else None
