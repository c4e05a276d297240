"""The push exchange's client: an Academy ``ExchangeFactory`` and ``ExchangeTransport``.

Each transport (one per Academy client, bound to one mailbox) holds one WebSocket to the
server. Requests (send, status, discover...) are frames answered by ``reply`` frames
matched by id, so many can be in flight on the one socket; messages for the mailbox are
pushed by the server once ``listen`` starts, and acknowledged after Academy has taken
them (batched: one ``ack`` when the local buffer is empty).

Connection errors surface as ``ConnectionError`` (transient): chia wraps push factories in
:class:`~chia.exchange.resilience.ResilientFactory`, which retries with backoff and
reports the outage; the next call here reconnects, re-creating this client's own mailbox
if the server lost it (a restarted memory-backend server), and a listener starts again.
Errors the server names (unknown or terminated mailbox, too large, bad token, another
protocol version) are Academy's own exceptions or :class:`PushExchangeError`, never
retried.

A preset uid is registered with :meth:`PushTransport.register_agent_as`, a first-class
call (``chia.exchange.identity.register_agent`` uses it), instead of Academy's
``AgentId.new``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import uuid
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any, Generic, Literal

from academy.exception import (
    BadEntityIdError,
    ExchangeError,
    MailboxTerminatedError,
    MessageTooLargeError,
)
from academy.exchange.factory import ExchangeFactory
from academy.exchange.transport import (
    ExchangeTransportMixin,
    _respond_pending_requests_on_terminate,
)
from academy.identifier import AgentId, EntityId, UserId
from academy.message import Body, Message, check_version
from academy.stats import AgentStats
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from chia.errors import ChiaError
from chia.exchange.academy_seam import agent_mro
from chia.exchange.push.connection import TERMINATED, ServerError, Socket
from chia.exchange.push.dial import CA_FILE_ENV, split_urls
from chia.exchange.push.protocol import PATH, PROTOCOL_VERSION, ErrorCode
from chia.exchange.token import http_headers

if TYPE_CHECKING:
    from academy.agent import Agent, AgentT
    from academy.exchange.client_config import ExchangeClientConfig
else:
    from academy.identifier import AgentT

__all__ = [
    "PushAgentRegistration",
    "PushExchangeError",
    "PushExchangeFactory",
    "PushTransport",
    "academy_error",
    "decode_message",
]

#: Academy's ``Message.get_body`` builds a new ``TypeAdapter(Body)`` for every message it
#: decodes (~0.3 ms each here, most of a round trip); the push transport decodes bodies
#: with this one instead, so ``get_body`` finds them decoded.
_BODY: TypeAdapter[Any] = TypeAdapter(Body)
#: Academy's version check parses version strings on every call; there are only a few.
_compatible = functools.lru_cache(maxsize=16)(check_version)


class PushExchangeError(ChiaError, ExchangeError):
    """The push exchange refused a call for good (bad token, protocol version, bad frame)."""

    #: Never retried by :mod:`chia.exchange.resilience`.
    chia_final = True


class PushAgentRegistration(BaseModel, Generic[AgentT]):
    """Agent registration on the push exchange."""

    agent_id: AgentId[AgentT]
    exchange_type: Literal["push"] = Field("push", repr=False)


class PushTransport(ExchangeTransportMixin):
    """An Academy ``ExchangeTransport`` bound to one mailbox of a push exchange.

    Args:
        mailbox_id: The mailbox this transport is bound to.
        factory: The factory that made it (its URL and limits).
        created: The mailbox exists already (a user's, created on connect).
    """

    def __init__(
        self, mailbox_id: EntityId, factory: PushExchangeFactory, *, created: bool = False
    ) -> None:
        self._mailbox_id = mailbox_id
        self._factory = factory
        self._role = "agent" if isinstance(mailbox_id, AgentId) else "user"
        self._ensure = self._role == "user"  # users' mailboxes are made on connect
        self._created = created
        self._socket: Socket | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    @property
    def mailbox_id(self) -> EntityId:
        """ID of the mailbox this transport is bound to."""
        return self._mailbox_id

    async def _connected(self) -> Socket:
        sock = self._socket
        if sock is not None and sock.alive:
            return sock
        async with self._lock:
            if self._socket is not None and self._socket.alive:
                return self._socket
            if self._socket is not None:
                await self._socket.close()
                # A reconnect re-creates our own mailbox if the server lost it.
                self._ensure = True
            self._socket = await self._factory._open_socket(
                self._mailbox_id, self._role, self._ensure
            )
            return self._socket

    async def _call(self, op: str, subject: EntityId | None = None, **fields: Any) -> Any:
        if self._closed:
            raise ConnectionError("push transport is closed")
        sock = await self._connected()
        try:
            return await sock.request(op, **fields)
        except ServerError as exc:
            raise academy_error(exc.code, str(exc), subject or self._mailbox_id) from None

    async def close(self) -> None:
        """Close the WebSocket; the mailbox is left as it is."""
        self._closed = True
        if self._socket is not None:
            await self._socket.close()
            self._socket = None

    async def discover(
        self, agent: type[Agent] | str, *, allow_subclasses: bool = True
    ) -> tuple[AgentId[Any], ...]:
        """Live agents of class ``agent`` (a type or a qualified name), with their names."""
        name = agent if isinstance(agent, str) else f"{agent.__module__}.{agent.__name__}"
        reply = await self._call("discover", agent=name, subclasses=allow_subclasses)
        return tuple(AgentId(uid=uuid.UUID(uid), name=shown) for uid, shown in reply["agents"])

    def factory(self) -> PushExchangeFactory:
        """A factory reaching the same exchange."""
        return PushExchangeFactory(self._factory.url, config=self._factory.config)

    async def listen(self, timeout: float | None = None) -> AsyncGenerator[Message[Any]]:
        """Yield messages pushed to this mailbox, acknowledging each once taken.

        Raises:
            MailboxTerminatedError: If the mailbox is terminated.
            ConnectionError: If the connection broke (the resilient wrapper reconnects).
            TimeoutError: If ``timeout`` passed without a message.
        """
        await self._call("listen")
        sock = self._socket
        assert sock is not None
        while True:
            try:
                item = await asyncio.wait_for(sock.deliveries.get(), timeout)
            except asyncio.TimeoutError:
                raise TimeoutError(f"no message for {self._mailbox_id} in {timeout} s") from None
            if item is TERMINATED:
                raise MailboxTerminatedError(self._mailbox_id)
            if isinstance(item, Exception):
                raise item
            seq, text = item
            yield decode_message(text)
            if sock.deliveries.empty() and sock.alive:
                # One cumulative ack per burst, riding on the next request if it is soon
                # (an agent's reply): the server forgets everything up to seq.
                sock.defer_ack(seq)

    async def register_agent(
        self, agent: type[AgentT], *, name: str | None = None
    ) -> PushAgentRegistration[AgentT]:
        """Register a new agent under a fresh uid (Academy's ``AgentId.new``)."""
        return await self.register_agent_as(agent, AgentId.new(name=name))

    async def register_agent_as(
        self, agent: type[AgentT], agent_id: AgentId[AgentT]
    ) -> PushAgentRegistration[AgentT]:
        """Register ``agent`` under the given (preset) id; re-registering keeps its queue.

        Raises:
            MailboxTerminatedError: If that uid's mailbox was terminated.
        """
        await self._call(
            "register",
            agent_id,
            uid=str(agent_id.uid),
            name=agent_id.name,
            mro=agent_mro(agent),
        )
        return PushAgentRegistration(agent_id=agent_id)

    async def send(self, message: Message[Any]) -> None:
        """Queue ``message`` in its destination's mailbox (pushed at once if it listens).

        Raises:
            BadEntityIdError: If the destination has no mailbox.
            MailboxTerminatedError: If it was terminated.
            MessageTooLargeError: If the message exceeds the server's limit.
        """
        text = message.model_dump_json()
        sock = await self._connected()
        if len(text) * 4 > sock.limit and (size := len(text.encode())) > sock.limit:
            raise MessageTooLargeError(size, sock.limit)
        await self._call(
            "send",
            message.dest,
            dest=str(message.dest.uid),
            src=str(message.src.uid),
            kind=message.header.kind,
            tag=str(message.tag),
            msg=text,
        )

    async def terminate(self, uid: EntityId) -> None:
        """Terminate ``uid``'s mailbox; its unanswered requests get Academy's error reply."""
        reply = await self._call("terminate", uid, uid=str(uid.uid))
        headers = [Message.model_validate_json(text).header for text in reply["pending"]]
        await _respond_pending_requests_on_terminate(headers, self.send)

    async def update_heartbeat(self) -> None:
        """Refresh this mailbox's heartbeat (the server's clock)."""
        await self._call("heartbeat")

    async def heartbeat_status(self, uid: EntityId) -> float | None:
        """Seconds since ``uid``'s last heartbeat, by the server's clock.

        Raises:
            BadEntityIdError: If ``uid`` has no mailbox.
            MailboxTerminatedError: If it was terminated.
        """
        reply = await self._call("status", uid, uid=str(uid.uid))
        if reply["state"] == "missing":
            raise BadEntityIdError(uid)
        if reply["state"] == "terminated":
            raise MailboxTerminatedError(uid)
        age = reply.get("age")
        return float(age) if age is not None else None

    async def agent_stats(self, uid: EntityId) -> AgentStats:
        """Exchange-level counters of ``uid``."""
        reply = await self._call("stats", uid, uid=str(uid.uid))
        return AgentStats(**reply["stats"])


def decode_message(text: str) -> Message[Any]:
    """Parse a pushed message, its body decoded (left to Academy if it cannot be).

    A message of another Academy protocol version keeps its raw body, so that Academy's
    own ``get_body`` raises its ``IncompatibleNetworkProtocolError`` as it would.
    """
    message: Message[Any] = Message.model_validate_json(text)
    if _compatible(message.protocol_version):
        # An invalid body is left raw: get_body raises Academy's own error for it.
        with contextlib.suppress(ValidationError):
            message.body = _BODY.validate_python(message.body)
    return message


def academy_error(code: str, message: str, subject: EntityId) -> Exception:
    """The Academy exception for a mailbox error code (``PushExchangeError`` otherwise)."""
    if code == ErrorCode.UNKNOWN_MAILBOX:
        return BadEntityIdError(subject)
    if code == ErrorCode.TERMINATED:
        return MailboxTerminatedError(subject)
    return PushExchangeError(f"the push exchange refused the call ({code}): {message}")


class PushExchangeFactory(ExchangeFactory[PushTransport]):
    """Academy exchange factory for a ``chia exchange serve --transport push`` server.

    Pickles as its URL and config; the shared token is read from ``$CHIA_EXCHANGE_TOKEN``
    when a transport connects, so it never travels with the factory.

    Args:
        url: ``ws://host:port`` (``wss://`` with TLS) of the server, or several servers
            over one Redis, comma-separated (tried in turn when one is down).
        config: Academy client config (heartbeat interval...).
        connect_timeout_s: Longest wait for one connection and its welcome.
    """

    def __init__(
        self,
        url: str,
        *,
        config: ExchangeClientConfig | None = None,
        connect_timeout_s: float = 10.0,
    ) -> None:
        super().__init__(config)
        self.url = url.rstrip("/")
        self.connect_timeout_s = connect_timeout_s
        #: Index (in ``split_urls(url)``) of the server that answered last.
        self._current = 0

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.url, self.config, self.connect_timeout_s))

    async def _create_transport(
        self,
        mailbox_id: EntityId | None = None,
        *,
        name: str | None = None,
        registration: Any = None,
    ) -> PushTransport:
        if mailbox_id is None:
            transport = PushTransport(UserId.new(name=name), self)
            await transport._connected()  # creates the user's mailbox, fails fast
            return transport
        return PushTransport(mailbox_id, self)

    async def _open_socket(self, mailbox: EntityId, role: str, ensure: bool) -> Socket:
        """Connect to the first server that answers, starting with the last good one."""
        import aiohttp

        urls = split_urls(self.url)
        error: Exception = ConnectionError(f"no push exchange URL in {self.url!r}")
        for step in range(len(urls)):
            index = (self._current + step) % len(urls)
            try:
                sock = await self._open_one(urls[index], mailbox, role, ensure)
            except (OSError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
                error = exc  # down or unreachable: the next server over the same Redis
                continue
            self._current = index
            return sock
        raise error

    async def _open_one(self, url: str, mailbox: EntityId, role: str, ensure: bool) -> Socket:
        import aiohttp

        from chia.exchange.push.dial import client_tls, connector_for

        tls = client_tls(url)
        session = aiohttp.ClientSession(connector=connector_for(url, tls))
        try:
            try:
                ws = await session.ws_connect(
                    url + PATH,
                    headers=http_headers(),
                    heartbeat=30.0,
                    max_msg_size=0,
                    ssl=tls if tls is not None else True,
                    timeout=aiohttp.ClientWSTimeout(ws_close=self.connect_timeout_s),
                )
            except aiohttp.ClientConnectorCertificateError as exc:
                raise PushExchangeError(
                    f"the push exchange at {url} has a certificate this client does not "
                    f"trust ({exc.certificate_error}): set ${CA_FILE_ENV} to its CA's PEM file"
                ) from None
            except aiohttp.WSServerHandshakeError as exc:
                if exc.status == 401:
                    raise PushExchangeError(
                        f"the push exchange at {url} refused the token: set "
                        "$CHIA_EXCHANGE_TOKEN to the server's"
                    ) from None
                raise PushExchangeError(
                    f"{url} is not a push exchange (HTTP {exc.status} on {PATH})"
                ) from None
            sock = Socket(session, ws)
            fields = {"v": PROTOCOL_VERSION, "mailbox": str(mailbox.uid), "role": role}
            fields |= {"name": mailbox.name, "ensure": ensure}
            try:
                welcome = await asyncio.wait_for(
                    sock.request("hello", **fields), self.connect_timeout_s
                )
            except ServerError as exc:
                await sock.close()
                raise PushExchangeError(f"the push exchange at {url}: {exc}") from None
            sock.limit = int(welcome["max_message_bytes"])
            return sock
        except BaseException:
            await session.close()
            raise


def _rebuild(
    url: str, config: ExchangeClientConfig | None, connect_timeout_s: float
) -> PushExchangeFactory:
    return PushExchangeFactory(url, config=config, connect_timeout_s=connect_timeout_s)
