"""One open WebSocket of a push client: requests matched to replies, pushed messages buffered.

The transport (:mod:`chia.exchange.push.client`) owns one :class:`Socket` at a time and
replaces it after a connection error.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

__all__ = ["TERMINATED", "ServerError", "Socket"]

#: Put in a socket's delivery buffer when the server says the mailbox was terminated.
TERMINATED = object()
#: Longest wait for a request to carry a delivery's ack before it goes alone, seconds.
ACK_DELAY_S = 0.002


class ServerError(Exception):
    """An ``error`` frame answered to a request (its ``code`` and message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Socket:
    """One open WebSocket: request/reply matching, and the pushed messages' buffer."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse):
        self.session = session
        self.ws = ws
        self.limit = 0
        self.deliveries: asyncio.Queue[Any] = asyncio.Queue()
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._next_id = 1
        #: Highest delivered seq Academy took and the server has not been told of yet.
        self._pending_ack: int | None = None
        self._ack_timer: asyncio.TimerHandle | None = None
        self._reader = asyncio.create_task(self._read())

    @property
    def alive(self) -> bool:
        """True while the socket is open and its reader runs."""
        return not self.ws.closed and not self._reader.done()

    async def _read(self) -> None:
        import aiohttp

        error: Exception = ConnectionError("the push exchange closed the connection")
        try:
            async for frame in self.ws:
                if frame.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(frame.data)
                op = data.get("op")
                if op == "deliver":
                    self.deliveries.put_nowait((data["seq"], data["msg"]))
                elif op in ("reply", "welcome", "error"):
                    waiter = self._replies.pop(data.get("id") or 0, None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(data)
                elif op == "terminated":
                    self.deliveries.put_nowait(TERMINATED)
            if self.ws.close_code not in (None, 1000):
                error = ConnectionError(
                    f"the push exchange closed the connection (code {self.ws.close_code})"
                )
        except Exception as exc:  # a broken socket: every waiter learns of it
            error = ConnectionError(f"push exchange connection lost: {exc}")
        for waiter in self._replies.values():
            if not waiter.done():
                waiter.set_exception(error)
        self._replies.clear()
        self.deliveries.put_nowait(error)

    def defer_ack(self, seq: int) -> None:
        """Acknowledge deliveries up to ``seq`` with the next request, or alone soon.

        A request sent within :data:`ACK_DELAY_S` (an agent's reply to the request it
        was just given) carries the ack; otherwise one ``ack`` frame goes by itself.
        """
        self._pending_ack = seq
        if self._ack_timer is None:
            self._ack_timer = asyncio.get_running_loop().call_later(ACK_DELAY_S, self._flush_ack)

    def _take_ack(self) -> int | None:
        if self._ack_timer is not None:
            self._ack_timer.cancel()
            self._ack_timer = None
        seq, self._pending_ack = self._pending_ack, None
        return seq

    def _flush_ack(self) -> None:
        self._ack_timer = None
        seq = self._take_ack()
        if seq is not None and self.alive:
            task = asyncio.ensure_future(self.ws.send_str(f'{{"op":"ack","upto":{seq}}}'))
            task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def request(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send one request frame and wait for its reply (errors raise ``ServerError``)."""
        if not self.alive:
            raise ConnectionError("push exchange connection lost")
        request_id = 0 if op == "hello" else self._next_id
        self._next_id += op != "hello"
        if op != "hello" and (seq := self._take_ack()) is not None:
            fields["ack"] = seq
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = waiter
        await self.ws.send_str(json.dumps({"op": op, "id": request_id, **fields}))
        data = await waiter
        if data["op"] == "error":
            raise ServerError(data.get("code", "?"), data.get("message", ""))
        return data

    async def close(self) -> None:
        """Send a pending ack, close the socket, stop its reader and its session."""
        with contextlib.suppress(Exception):
            if (seq := self._take_ack()) is not None and self.alive:
                await self.ws.send_str(f'{{"op":"ack","upto":{seq}}}')
            await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader
        await self.session.close()
