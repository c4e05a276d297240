"""Exchanges that go away and come back: Academy transport calls retried until they answer.

Measured with academy-py 1.0.0 (an agent in a ``Runtime`` with chia's ``runtime_config``,
called by a ``user_client``), before this module existed:

* Redis exchange, redis-server SIGKILLed: redis-py retries each command 3 times (about
  7 s), then the agent's listener task ends with ``ConnectionError``; the ``Runtime``
  shuts the agent down and re-raises it as a traceback on exit. The user client's
  listener died at once, so a reply that came later was never read (the caller timed
  out, even after redis-server was back). A ``Handle`` call made while it was down raised
  ``ConnectionError`` to its caller.
* Self-hosted HTTP exchange (``backend=redis``), server SIGKILLed: the agent's SSE stream
  broke with ``ClientPayloadError`` and the agent shut down at once; calls raised
  ``ClientConnectorError``; Academy logged every failed request with a traceback.

So chia wraps every transport an exchange factory mints (:class:`ResilientFactory`, built
by :func:`chia.exchange.settings.open_factory`): ``send``, ``listen``, ``register_agent``,
``discover``, heartbeats and status calls are retried on connection errors with capped
exponential backoff (0.2 s doubling to 5 s) until the exchange answers again, bounded by
a long deadline (10 min, the default delivery deadline) once the exchange has answered
at least once, and a short one (30 s) before that, so a wrong address still fails fast.
Academy's ``Runtime``, its ``Handle`` objects and chia's agents keep working unchanged.

Why retrying is safe: a retried ``send`` may reach the exchange twice (the first attempt
can be applied before the connection drops). The wrapped ``listen`` drops a message whose
Academy tag (request or response) it has just delivered, so Academy never sees a second
response to one request (it would raise ``KeyError`` in its listener: assumption 7 of
:mod:`chia.exchange.academy_seam`); chia's delivery
layer above dedupes its own messages by message id, and re-sends a request whose reply
never comes (the HTTP exchange can lose a message it popped for a stream that broke).

Cancel requests are sent once and dropped if the exchange is down: they are advisory,
and ``Handle.action`` sends one from its cancellation handler, which must not wait out
an outage. Terminating a (user) mailbox is retried for a few seconds only, so a client
closing while the exchange is down does not hang.

Reporting: each factory has one :class:`~chia.exchange.health.ExchangeHealth`, shared
by all its transports; see :func:`chia.exchange.health.watch_exchange`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncGenerator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from academy.exception import ExchangeError
from academy.exchange.factory import ExchangeFactory
from academy.message import CancelRequest, Message

from chia.errors import ChiaError
from chia.exchange.academy_seam import create_transport
from chia.exchange.health import ExchangeHealth, describe_error, is_transient
from chia.timeouts import EXCHANGE_OUTAGE_S

if TYPE_CHECKING:
    from academy.agent import Agent
    from academy.exchange.transport import AgentRegistration, ExchangeTransport
    from academy.identifier import AgentId, EntityId
    from academy.stats import AgentStats

__all__ = [
    "Backoff",
    "ExchangeUnreachableError",
    "ResilientFactory",
    "ResilientTransport",
    "retry_transient",
]

logger = logging.getLogger("chia.exchange")
T = TypeVar("T")

#: Recently delivered (tag, is_response) pairs remembered per listening transport.
_SEEN_MAX = 16_384
#: How long closing a client may spend terminating its (user) mailbox.
_TERMINATE_DEADLINE_S = 5.0
#: How long closing a transport waits for its sends in flight.
_CLOSE_DRAIN_S = 5.0


class ExchangeUnreachableError(ChiaError, ExchangeError):
    """The exchange did not answer within the reconnect deadline (names it and why)."""

    #: Tells :func:`~chia.exchange.health.is_transient` this is final: never retried.
    chia_final = True


@dataclass(frozen=True)
class Backoff:
    """How long to wait between attempts, and when to give up.

    Attributes:
        initial_s: First wait after a failure.
        max_s: Cap of the doubling wait.
        deadline_s: Give up after this long without an answer, once the exchange has
            answered this factory at least once (an outage).
        first_contact_s: Give up after this long if it never answered (a wrong address).
    """

    initial_s: float = 0.2
    max_s: float = 5.0
    deadline_s: float = EXCHANGE_OUTAGE_S
    first_contact_s: float = 30.0


class _Seen:
    """A bounded memory of recently delivered messages (drops retried duplicates)."""

    def __init__(self, size: int = _SEEN_MAX) -> None:
        self._size = size
        self._keys: OrderedDict[tuple[int, bool], None] = OrderedDict()

    def first_time(self, message: Message[Any]) -> bool:
        key = (message.tag.int, message.is_response())
        if key in self._keys:
            return False
        self._keys[key] = None
        if len(self._keys) > self._size:
            self._keys.popitem(last=False)
        return True


class ResilientTransport:
    """An Academy ``ExchangeTransport`` that rides out exchange outages.

    Args:
        inner: The real transport (redis, http, hybrid...).
        factory: The :class:`ResilientFactory` that made it (returned by ``factory()``).
    """

    def __init__(self, inner: ExchangeTransport[Any], factory: ResilientFactory) -> None:
        self._inner = inner
        self._factory = factory
        self._health = factory.health
        self._backoff = factory.backoff
        self._seen = _Seen()
        self._sending = 0
        self._closing = False
        self._closed = False

    def __repr__(self) -> str:
        return f"ResilientTransport({self._inner!r})"

    async def __aenter__(self) -> ResilientTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def mailbox_id(self) -> EntityId:
        """ID of the mailbox the inner transport is bound to."""
        return self._inner.mailbox_id

    @property
    def inner(self) -> ExchangeTransport[Any]:
        """The wrapped transport (for its own first-class calls, e.g. ``register_agent_as``)."""
        return self._inner

    async def _retry(
        self, what: str, call: Callable[[], Awaitable[T]], deadline_s: float | None = None
    ) -> T:
        return await retry_transient(
            self._health, self._backoff, what, call, deadline_s, lambda: self._closed
        )

    async def close(self) -> None:
        """Let sends in flight finish (up to 5 s), then close the inner transport.

        Academy closes a client right after an agent's last action: the reply (often an
        acknowledgement) may still be on its way, and closing under it would lose it.
        The mailbox is left as it is.
        """
        self._closing = True
        deadline = time.monotonic() + _CLOSE_DRAIN_S
        while self._sending and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        self._closed = True
        with contextlib.suppress(Exception):
            await self._inner.close()

    async def discover(
        self, agent: type[Agent] | str, *, allow_subclasses: bool = True
    ) -> tuple[AgentId[Any], ...]:
        """Discover peers (retried)."""
        return await self._retry(
            "discover", lambda: self._inner.discover(agent, allow_subclasses=allow_subclasses)
        )

    def factory(self) -> ResilientFactory:
        """The resilient factory that minted this transport."""
        return self._factory

    async def listen(self, timeout: float | None = None) -> AsyncGenerator[Message[Any]]:
        """Yield messages; after a connection error, reconnect with backoff and go on.

        The inner generator ends with the error, so a new one is started once a
        heartbeat update answers (that answer also reports "restored" for an idle client).
        """
        delay = self._backoff.initial_s
        while True:
            try:
                async for message in self._inner.listen(timeout):
                    self._health.succeeded()
                    delay = self._backoff.initial_s
                    if self._seen.first_time(message):
                        yield message
                    else:
                        logger.debug("dropped a duplicate of message %s", message.tag)
                return
            except Exception as exc:
                if self._closing:
                    return  # our own close broke the stream: not an outage
                if not is_transient(exc):
                    raise
                self._health.failed(exc)
            # Wait before reconnecting even when the exchange answers at once: a listen
            # that keeps failing right after a good heartbeat must not spin.
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._backoff.max_s)
            await self._retry("listen", self._inner.update_heartbeat)

    async def register_agent(
        self, agent: type[Any], *, name: str | None = None
    ) -> AgentRegistration[Any]:
        """Register an agent mailbox (retried; re-registering a uid is accepted)."""
        registration: AgentRegistration[Any] = await self._retry(
            "register_agent", lambda: self._inner.register_agent(agent, name=name)
        )
        return registration

    async def send(self, message: Message[Any]) -> None:
        """Send (retried; cancel requests are tried once and dropped if the exchange is down)."""
        self._sending += 1
        try:
            await self._send(message)
        finally:
            self._sending -= 1

    async def _send(self, message: Message[Any]) -> None:
        if isinstance(message.body, CancelRequest):
            try:
                await self._inner.send(message)
                self._health.succeeded()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                self._health.failed(exc)
                logger.debug("dropped cancel request %s: exchange down", message.tag)
            return
        await self._retry("send", lambda: self._inner.send(message))

    async def terminate(self, uid: EntityId) -> None:
        """Terminate a mailbox; retried for a few seconds, then given up (logged)."""
        try:
            await self._retry(
                "terminate", lambda: self._inner.terminate(uid), _TERMINATE_DEADLINE_S
            )
        except ExchangeUnreachableError as exc:
            logger.info("mailbox %s not terminated: %s", uid, exc)

    async def update_heartbeat(self) -> None:
        """Refresh this mailbox's heartbeat (retried)."""
        await self._retry("update_heartbeat", self._inner.update_heartbeat)

    async def heartbeat_status(self, uid: EntityId) -> float | None:
        """Seconds since ``uid``'s last heartbeat (retried)."""
        return await self._retry("heartbeat_status", lambda: self._inner.heartbeat_status(uid))

    async def agent_stats(self, uid: EntityId) -> AgentStats:
        """Exchange-level counters of ``uid`` (retried)."""
        return await self._retry("agent_stats", lambda: self._inner.agent_stats(uid))


async def retry_transient(
    health: ExchangeHealth,
    backoff: Backoff,
    what: str,
    call: Callable[[], Awaitable[T]],
    deadline_s: float | None = None,
    give_up: Callable[[], bool] | None = None,
) -> T:
    """Await ``call()`` until it succeeds, retrying transient errors with backoff.

    Args:
        health: Told of each failure and success (it reports the outage).
        backoff: Waits and deadlines.
        what: The call's name, for the error message.
        call: Makes one attempt.
        deadline_s: Overrides the backoff's deadlines.
        give_up: Re-raise a failure at once, unreported, when this says so (the
            transport was closed under the call).

    Raises:
        ExchangeUnreachableError: If it kept failing past the deadline.
    """
    started: float | None = None
    delay = backoff.initial_s
    while True:
        try:
            result = await call()
        except Exception as exc:
            if not is_transient(exc) or (give_up is not None and give_up()):
                raise
            health.failed(exc)
            now = time.monotonic()
            started = now if started is None else started
            limit = deadline_s
            if limit is None:
                limit = backoff.deadline_s if health.ever_up else backoff.first_contact_s
            waited = now - started
            if waited >= limit:
                never = "" if health.ever_up else ", never answered"
                raise ExchangeUnreachableError(
                    f"the exchange ({health.where}) did not answer {what} for "
                    f"{waited:.0f}s{never}: {describe_error(exc)}"
                ) from exc
            await asyncio.sleep(min(delay, limit - waited))
            delay = min(delay * 2, backoff.max_s)
            continue
        health.succeeded()
        return result


class ResilientFactory(ExchangeFactory[Any]):
    """An Academy exchange factory whose transports ride out exchange outages.

    Args:
        inner: The real factory (from ``open_factory``).
        where: What the exchange is, for messages (e.g. ``http://127.0.0.1:5463``).
        backoff: Retry timing and deadlines.
    """

    def __init__(self, inner: ExchangeFactory[Any], where: str, backoff: Backoff | None = None):
        super().__init__(inner.config)
        self.inner = inner
        self.where = where
        self.backoff = backoff or Backoff()
        self.health = ExchangeHealth(where)

    def __reduce__(self) -> tuple[Any, ...]:
        # Factories travel to other processes (Academy requires them to pickle); the
        # health and its subscribers belong to this process only.
        return (type(self), (self.inner, self.where, self.backoff))

    async def _create_transport(
        self,
        mailbox_id: EntityId | None = None,
        *,
        name: str | None = None,
        registration: AgentRegistration[Any] | None = None,
    ) -> ResilientTransport:
        inner = await retry_transient(
            self.health,
            self.backoff,
            "connect",
            lambda: create_transport(self.inner, mailbox_id, name=name, registration=registration),
        )
        return ResilientTransport(inner, self)
