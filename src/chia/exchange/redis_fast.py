"""The redis-fast exchange: Academy's transport protocol straight over Redis, no polling.

Academy's Redis exchange polls (``BLPOP`` with a short timeout, ~13 unpipelined commands
per round trip). This transport keeps the mailboxes of the push exchange's Redis store
(:mod:`chia.exchange.push.redis_store`: one Lua script per mailbox operation, atomic and
one round trip) and talks to Redis itself, without a server in between:

* ``send`` is one script (queue the message, count the request);
* a listener blocks in ``BLMOVE queue -> inflight``: Redis hands it a message the moment
  one is queued. The previous message's acknowledgement travels in the same pipeline,
  so a delivered message costs one round trip on the listener's side;
* a message stays in ``inflight`` until acknowledged (after Academy took it): a listener
  that dies or is cancelled leaves it there, and the next listener of that mailbox
  requeues it first. Delivery is at-least-once; chia's delivery contract dedupes
  (docs/durability.md);
* a listener owns its mailbox by a token; a newer listener of the same mailbox (a
  restarted agent) takes it over, and the old one gives back what it held and stops;
* keys live under ``chia:rf:<namespace>`` (``chia spawn-site`` and ``chia bootstrap``
  set the namespace to the run id), so runs sharing one Redis never see each other's
  keys, and a run's keys can be listed or deleted as one prefix.

Redis errors are transient (``redis.exceptions.ConnectionError``): chia wraps the factory
in :class:`~chia.exchange.resilience.ResilientFactory` like every other kind. JSON only;
messages up to :data:`DEFAULT_MAX_MESSAGE_BYTES`, as on the push exchange.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator, Awaitable
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from academy.exception import BadEntityIdError, MailboxTerminatedError, MessageTooLargeError
from academy.exchange.factory import ExchangeFactory
from academy.exchange.transport import (
    ExchangeTransportMixin,
    _respond_pending_requests_on_terminate,
)
from academy.identifier import AgentId, EntityId, UserId
from academy.message import Message
from academy.stats import AgentStats
from pydantic import BaseModel, Field
from redis.exceptions import NoScriptError

from chia.exchange.academy_seam import agent_mro
from chia.exchange.push.client import PushExchangeError, academy_error, decode_message
from chia.exchange.push.protocol import DEFAULT_MAX_MESSAGE_BYTES, FrameError
from chia.exchange.push.redis_scripts import TERMINATED_ITEM
from chia.exchange.push.redis_store import RedisStore

if TYPE_CHECKING:
    from academy.agent import Agent, AgentT
    from academy.exchange.client_config import ExchangeClientConfig
else:
    from academy.identifier import AgentT

__all__ = [
    "KEY_PREFIX",
    "RedisFastAgentRegistration",
    "RedisFastExchangeFactory",
    "RedisFastTransport",
]

T = TypeVar("T")

#: Keys of a redis-fast exchange live under ``{KEY_PREFIX}:<namespace>``.
KEY_PREFIX = "chia:rf"


class RedisFastAgentRegistration(BaseModel, Generic[AgentT]):
    """Agent registration on the redis-fast exchange."""

    agent_id: AgentId[AgentT]
    exchange_type: Literal["redis-fast"] = Field("redis-fast", repr=False)


class RedisFastTransport(ExchangeTransportMixin):
    """An Academy ``ExchangeTransport`` bound to one mailbox, straight over Redis.

    Args:
        mailbox_id: The mailbox this transport is bound to.
        factory: The factory that made it (Redis address, namespace, limits).
        store: The process's shared store of that factory (connection pool, scripts).
    """

    def __init__(
        self, mailbox_id: EntityId, factory: RedisFastExchangeFactory, store: RedisStore
    ) -> None:
        self._mailbox_id = mailbox_id
        self._factory = factory
        self._store = store
        self._uid = str(mailbox_id.uid)
        self._closed = False

    @property
    def mailbox_id(self) -> EntityId:
        """ID of the mailbox this transport is bound to."""
        return self._mailbox_id

    async def _call(self, subject: EntityId | None, call: Awaitable[T]) -> T:
        if self._closed:
            raise ConnectionError("redis-fast transport is closed")
        try:
            return await call
        except FrameError as exc:
            raise academy_error(exc.code, str(exc), subject or self._mailbox_id) from None

    async def close(self) -> None:
        """Release this transport's share of the process's Redis pool; mailboxes stay."""
        if not self._closed:
            self._closed = True
            await self._factory._release_store()

    async def discover(
        self, agent: type[Agent] | str, *, allow_subclasses: bool = True
    ) -> tuple[AgentId[Any], ...]:
        """Live agents of class ``agent`` (a type or a qualified name), with their names."""
        name = agent if isinstance(agent, str) else f"{agent.__module__}.{agent.__name__}"
        found = await self._call(None, self._store.discover(name, allow_subclasses))
        return tuple(AgentId(uid=uuid.UUID(uid), name=shown) for uid, shown in found)

    def factory(self) -> RedisFastExchangeFactory:
        """A factory reaching the same exchange."""
        return self._factory.copy()

    async def listen(self, timeout: float | None = None) -> AsyncGenerator[Message[Any]]:
        """Yield this mailbox's messages as Redis hands them over, acknowledging each.

        Raises:
            MailboxTerminatedError: If the mailbox is terminated.
            PushExchangeError: If another listener of this mailbox took it over.
            TimeoutError: If ``timeout`` passed without a message.
        """
        token = f"rf:{uuid.uuid4().hex}"
        store = self._store
        await self._call(None, store.claim(self._uid, token))
        blocking = self._factory._blocking_client()
        held: str | None = None  # the raw item yielded last, acknowledged with the next move
        try:
            while True:
                answers = await self._move(blocking, token, held, timeout)
                item = answers[-1]
                text = item.decode() if isinstance(item, bytes) else item
                if text == TERMINATED_ITEM:
                    raise MailboxTerminatedError(self._mailbox_id)
                if held is not None and answers[0] == -1:
                    await store.give_back(self._uid, [held, *([text] if text else [])])
                    raise PushExchangeError(
                        f"mailbox {self._uid} was taken over by another listener "
                        "(the same agent started twice?)"
                    )
                held = None
                if text is None:
                    raise TimeoutError(f"no message for {self._mailbox_id} in {timeout} s")
                yield decode_message(text.partition(":")[2])
                held = text
        finally:
            await asyncio.shield(self._stop_listening(blocking, token, held))

    async def _move(
        self, blocking: Any, token: str, held: str | None, timeout: float | None
    ) -> list[Any]:
        """One round trip: acknowledge ``held`` (if any), then wait for the next message.

        Returns:
            ``[ack answer, moved item]`` (``[moved item]`` when nothing was held).
        """
        store = self._store
        queue, inflight = store.queue_keys(self._uid)
        seq = int(held.partition(":")[0]) if held is not None else None
        async with blocking.pipeline(transaction=False) as pipe:
            if seq is not None:
                store.queue_ack(pipe, self._uid, token, seq)
            pipe.blmove(queue, inflight, timeout or 0, "LEFT", "RIGHT")
            answers = list(await pipe.execute(raise_on_error=False))
        if isinstance(answers[-1], Exception):
            raise answers[-1]
        if seq is not None and isinstance(answers[0], NoScriptError):
            # Redis restarted and forgot the scripts; the move happened: keep its item.
            await store.load_scripts()
            answers[0] = await store.ack_upto(self._uid, token, seq)
        elif isinstance(answers[0], Exception):
            raise answers[0]
        return answers

    async def _stop_listening(self, blocking: Any, token: str, held: str | None) -> None:
        try:
            if held is not None:
                await self._store.ack_upto(self._uid, token, int(held.partition(":")[0]))
            await self._store.release(self._uid, token)
        except Exception:  # Redis gone: the next listener requeues what this one held
            pass
        finally:
            await blocking.aclose()

    async def register_agent(
        self, agent: type[AgentT], *, name: str | None = None
    ) -> RedisFastAgentRegistration[AgentT]:
        """Register a new agent under a fresh uid (Academy's ``AgentId.new``)."""
        return await self.register_agent_as(agent, AgentId.new(name=name))

    async def register_agent_as(
        self, agent: type[AgentT], agent_id: AgentId[AgentT]
    ) -> RedisFastAgentRegistration[AgentT]:
        """Register ``agent`` under the given (preset) id; re-registering keeps its queue.

        Raises:
            MailboxTerminatedError: If that uid's mailbox was terminated.
        """
        mro = agent_mro(agent)
        ensure = self._store.ensure(str(agent_id.uid), "agent", agent_id.name, mro)
        await self._call(agent_id, ensure)
        return RedisFastAgentRegistration(agent_id=agent_id)

    async def send(self, message: Message[Any]) -> None:
        """Queue ``message`` in its destination's mailbox (a blocked listener gets it now).

        Raises:
            BadEntityIdError: If the destination has no mailbox.
            MailboxTerminatedError: If it was terminated.
            MessageTooLargeError: If the message exceeds the limit.
        """
        text = message.model_dump_json()
        limit = self._factory.max_message_bytes
        if len(text) * 4 > limit and (size := len(text.encode())) > limit:
            raise MessageTooLargeError(size, limit)
        dest, src = str(message.dest.uid), str(message.src.uid)
        call = self._store.send(dest, src, message.header.kind, str(message.tag), text)
        await self._call(message.dest, call)

    async def terminate(self, uid: EntityId) -> None:
        """Terminate ``uid``'s mailbox; its unanswered requests get Academy's error reply."""
        pending = await self._call(uid, self._store.terminate(str(uid.uid)))
        headers = [Message.model_validate_json(text).header for text in pending]
        await _respond_pending_requests_on_terminate(headers, self.send)

    async def update_heartbeat(self) -> None:
        """Refresh this mailbox's heartbeat (Redis's clock)."""
        await self._call(None, self._store.heartbeat(self._uid))

    async def heartbeat_status(self, uid: EntityId) -> float | None:
        """Seconds since ``uid``'s last heartbeat, by Redis's clock.

        Raises:
            BadEntityIdError: If ``uid`` has no mailbox.
            MailboxTerminatedError: If it was terminated.
        """
        state, age = await self._call(uid, self._store.status(str(uid.uid)))
        if state == "missing":
            raise BadEntityIdError(uid)
        if state == "terminated":
            raise MailboxTerminatedError(uid)
        return age

    async def agent_stats(self, uid: EntityId) -> AgentStats:
        """Exchange-level counters of ``uid``."""
        return AgentStats(**await self._call(uid, self._store.stats(str(uid.uid))))


class RedisFastExchangeFactory(ExchangeFactory[RedisFastTransport]):
    """Academy exchange factory of the redis-fast exchange.

    Pickles as its address and settings; the Redis password is read from
    ``$CHIA_REDIS_PASSWORD`` where a transport connects, so it never travels.

    Args:
        host: Redis host.
        port: Redis port.
        db: Redis database number.
        namespace: Key namespace (the run id under ``chia spawn-site``).
        config: Academy client config (heartbeat interval...).
        max_connections: Size of the process's shared connection pool (a listener
            blocks on a connection of its own, outside it).
        max_message_bytes: Largest message a transport sends.
    """

    def __init__(
        self,
        host: str,
        port: int,
        db: int = 0,
        *,
        namespace: str = "chia",
        config: ExchangeClientConfig | None = None,
        max_connections: int = 10_000,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        super().__init__(config)
        self.host, self.port, self.db = host, port, db
        self.namespace = namespace
        self.max_connections = max_connections
        self.max_message_bytes = max_message_bytes
        self._store: RedisStore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._users = 0
        self._starting: asyncio.Lock | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._args(),))

    def _args(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "db": self.db,
            "namespace": self.namespace,
            "config": self.config,
            "max_connections": self.max_connections,
            "max_message_bytes": self.max_message_bytes,
        }

    def copy(self) -> RedisFastExchangeFactory:
        """A new factory of the same exchange (its own connection pool)."""
        return _rebuild(self._args())

    @property
    def prefix(self) -> str:
        """Key prefix of this exchange's mailboxes."""
        return f"{KEY_PREFIX}:{self.namespace}"

    @property
    def url(self) -> str:
        """``redis://host:port/db`` of the Redis holding the mailboxes."""
        return f"redis://{self.host}:{self.port}/{self.db}"

    def _client_kwargs(self, max_connections: int) -> dict[str, Any]:
        from chia.exchange.redis_client import redis_connection_kwargs

        return redis_connection_kwargs(self.db, max_connections)

    async def _shared_store(self) -> RedisStore:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop: the old one's connections are dead
            self._store, self._users, self._loop = None, 0, loop
            self._starting = asyncio.Lock()
        assert self._starting is not None
        async with self._starting:
            if self._store is None:
                kwargs = self._client_kwargs(self.max_connections)
                store = RedisStore(
                    self.url, prefix=self.prefix, wakeups=False, client_kwargs=kwargs
                )
                await store.start()
                self._store = store
            self._users += 1
            return self._store

    async def _release_store(self) -> None:
        self._users -= 1
        if self._users <= 0 and self._store is not None:
            store, self._store = self._store, None
            await store.close()

    def _blocking_client(self) -> Any:
        """A client of its own for one listener's blocking ``BLMOVE`` (and its acks)."""
        from redis.asyncio import Redis

        return Redis(host=self.host, port=self.port, **self._client_kwargs(2))

    async def _create_transport(
        self,
        mailbox_id: EntityId | None = None,
        *,
        name: str | None = None,
        registration: Any = None,
    ) -> RedisFastTransport:
        store = await self._shared_store()
        try:
            if mailbox_id is None:
                mailbox_id = UserId.new(name=name)
                await store.ensure(str(mailbox_id.uid), "user", name)
        except BaseException:
            await self._release_store()
            raise
        return RedisFastTransport(mailbox_id, self, store)


def _rebuild(args: dict[str, Any]) -> RedisFastExchangeFactory:
    return RedisFastExchangeFactory(**args)
