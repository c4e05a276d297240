"""Push exchange mailboxes in Redis: several ``serve`` processes share them.

Every mailbox operation is one Lua script (atomic, one round trip), so the servers over
one Redis see one consistent set of mailboxes, and a client may reconnect to any of
them. Give redis-server ``appendonly yes`` to keep the mailboxes across its restarts.

Keys, under ``prefix`` (default ``chia:push``)::

    {prefix}:box:{uid}       hash: role, name, mro (JSON), terminated, heartbeat,
                             listener (the attached listener's token), next_seq,
                             outgoing, completions
    {prefix}:q:{uid}         list: queued messages, "seq:json", oldest first
    {prefix}:inflight:{uid}  list: pushed and not yet acknowledged, in order
    {prefix}:pending:{uid}   hash: request tag -> message JSON (unanswered requests)
    {prefix}:agents          set: uids of agent mailboxes (for discover)

A server learns that a mailbox of one of its listeners has mail through Redis pub/sub
(``{prefix}:wake:{uid}``: ``w`` for mail, ``t`` for terminated), on one subscriber
connection per server. A listener's token (server id and a counter) marks which
connection of which server owns a mailbox: a client that reconnects elsewhere takes it
over (its unacknowledged messages go back to the queue), and the old server's stale
connection can no longer take or acknowledge anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

from chia.errors import ChiaError
from chia.exchange.push.mailboxes import WINDOW, Listener
from chia.exchange.push.protocol import ErrorCode, FrameError
from chia.exchange.push.redis_scripts import SOURCES

if TYPE_CHECKING:
    from redis.commands.core import AsyncScript

__all__ = ["DEFAULT_PREFIX", "RedisStore"]

logger = logging.getLogger("chia.exchange.push")

#: Key prefix of the push exchange's mailboxes in Redis.
DEFAULT_PREFIX = "chia:push"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisStore:
    """Every mailbox of a push exchange in one Redis, shared by the servers over it.

    Args:
        url: ``redis://[:password@]host:port/db``.
        prefix: Key prefix (several exchanges may share one Redis under different ones).
        password: Redis password when the URL has none.
        wakeups: Subscribe to wake-ups for attached :class:`Listener` objects (a push
            server). A client that blocks on its queue itself (redis-fast) needs none.
        client_kwargs: Keyword arguments of the ``redis.asyncio.Redis`` client.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        password: str | None = None,
        wakeups: bool = True,
        client_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.url = url
        self.prefix = prefix
        self._password = password
        self._wakeups = wakeups
        self._client_kwargs = client_kwargs or {"max_connections": 64}
        self._server_id = uuid.uuid4().hex[:12]
        self._counter = itertools.count(1)
        self._tokens: dict[Listener, str] = {}
        #: uid -> this server's attached listener of it.
        self._local: dict[str, Listener] = {}
        self._subscribed: dict[str, asyncio.Future[None]] = {}
        # Any: redis-py types its commands as sync-or-async unions.
        self._redis: Any = None
        self._pubsub: Any = None  # redis.asyncio.client.PubSub (untyped aclose)
        self._reader: asyncio.Task[None] | None = None
        self._scripts: dict[str, AsyncScript] = {}

    def _key(self, kind: str, uid: str) -> str:
        return f"{self.prefix}:{kind}:{uid}"

    def _channel(self, uid: str) -> str:
        return f"{self.prefix}:wake:{uid}"

    async def start(self) -> None:
        """Connect, load the scripts and start the wake-up subscriber (if ``wakeups``).

        Raises:
            ChiaError: If Redis cannot be reached.
        """
        from redis.asyncio import Redis

        extra: dict[str, Any] = {"password": self._password} if self._password else {}
        self._redis = Redis.from_url(self.url, **self._client_kwargs, **extra)
        try:
            await self._redis.ping()
        except Exception as exc:
            await self._redis.aclose()
            raise ChiaError(f"the push exchange cannot reach Redis at {self.url}: {exc}") from None
        self._scripts = {name: self._redis.register_script(src) for name, src in SOURCES.items()}
        await self.load_scripts()
        if not self._wakeups:
            return
        self._pubsub = self._redis.pubsub()
        # A first subscription opens the connection the reader reads from.
        await self._pubsub.subscribe(f"{self.prefix}:server:{self._server_id}")
        self._reader = asyncio.create_task(self._read_wakes())

    async def close(self) -> None:
        """Stop the subscriber and disconnect (the mailboxes stay in Redis)."""
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(BaseException):
                await self._reader
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        if self._redis is not None:
            await self._redis.aclose()

    async def _read_wakes(self) -> None:
        assert self._pubsub is not None
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("push exchange: redis subscriber failed: %r", exc)
                await asyncio.sleep(0.5)
                continue
            if message is None:
                continue
            channel = _text(message["channel"])
            uid = channel.rsplit(":", 1)[-1]
            if message["type"] == "subscribe":
                ready = self._subscribed.get(uid)
                if ready is not None and not ready.done():
                    ready.set_result(None)
                continue
            if message["type"] != "message":
                continue
            listener = self._local.get(uid)
            if listener is None:
                continue
            if _text(message["data"]) == "t":
                self._forget(uid, listener)
                listener.terminated()
            else:
                listener.wake()

    async def _run(self, name: str, keys: list[str], args: list[Any]) -> Any:
        return await self._scripts[name](keys=keys, args=args)

    def _box_keys(self, uid: str) -> list[str]:
        return [self._key("box", uid), self._key("q", uid), self._key("inflight", uid)]

    @staticmethod
    def _raise_for(code: Any, uid: str) -> None:
        text = _text(code)
        if text == ErrorCode.UNKNOWN_MAILBOX:
            raise FrameError(ErrorCode.UNKNOWN_MAILBOX, f"no mailbox {uid}")
        if text == ErrorCode.TERMINATED:
            raise FrameError(ErrorCode.TERMINATED, f"mailbox {uid} was terminated")

    async def ensure(
        self, uid: str, role: str, name: str | None = None, mro: list[str] | None = None
    ) -> None:
        """Create ``uid``'s mailbox, or update it (see :meth:`MemoryStore.ensure`)."""
        keys = [self._key("box", uid), f"{self.prefix}:agents"]
        mro_json = json.dumps(mro) if mro is not None else ""
        self._raise_for(await self._run("ensure", keys, [uid, role, name or "", mro_json]), uid)

    async def send(self, dest: str, src: str, kind: str, tag: str, msg: str) -> None:
        """Queue ``msg`` for ``dest``; the server holding its listener is woken."""
        keys = [self._key("box", dest), self._key("q", dest), self._key("pending", dest)]
        keys += [self._key("box", src), self._key("pending", src)]
        code = await self._run("send", keys, [kind, tag, msg, self._channel(dest)])
        self._raise_for(code, dest)

    async def attach(self, uid: str, listener: Listener) -> None:
        """Make ``listener`` (on this server) the one listener of ``uid`` on every server."""
        assert self._pubsub is not None
        old = self._local.get(uid)
        if old is not None and old is not listener:
            self._tokens.pop(old, None)
        token = self._tokens.setdefault(listener, f"{self._server_id}:{next(self._counter)}")
        self._local[uid] = listener
        if uid not in self._subscribed:
            # Subscribed (confirmed) before attaching: no wake-up can fall in between.
            ready = self._subscribed[uid] = asyncio.get_running_loop().create_future()
            await self._pubsub.subscribe(self._channel(uid))
            await asyncio.wait_for(asyncio.shield(ready), 10)
        try:
            queued = await self.claim(uid, token)
        except FrameError:
            self._forget(uid, listener)
            raise
        if queued > 0:
            listener.wake()

    def _forget(self, uid: str, listener: Listener) -> None:
        self._tokens.pop(listener, None)
        if self._local.get(uid) is listener:
            del self._local[uid]
            if self._subscribed.pop(uid, None) is not None and self._pubsub is not None:
                task = asyncio.ensure_future(self._pubsub.unsubscribe(self._channel(uid)))
                task.add_done_callback(lambda done: done.cancelled() or done.exception())

    async def detach(self, uid: str, listener: Listener) -> None:
        """``listener`` is gone: if it still owned ``uid``, its unacked messages requeue."""
        token = self._tokens.get(listener)
        self._forget(uid, listener)
        if token is not None:
            await self.release(uid, token)

    async def take(self, uid: str, listener: Listener) -> list[tuple[int, str]]:
        """Move queued messages to in-flight (up to the window) for ``listener`` to push."""
        token = self._tokens.get(listener)
        if token is None:
            return []
        items = await self._run("take", self._box_keys(uid), [token, WINDOW])
        taken = []
        for item in items:
            seq, _, msg = _text(item).partition(":")
            taken.append((int(seq), msg))
        return taken

    async def ack(self, uid: str, listener: Listener, upto: int) -> None:
        """Forget messages up to ``upto``; wake the listener if more wait."""
        token = self._tokens.get(listener)
        if token is not None and await self.ack_upto(uid, token, upto) > 0:
            listener.wake()

    # Token calls: a listener is named by its token (``attach`` mints one per Listener;
    # a redis-fast client picks its own) and owns a mailbox until another claims it.

    async def claim(self, uid: str, token: str) -> int:
        """Make ``token`` the one listener of ``uid``; its unacked messages requeue first.

        Returns:
            How many messages wait in the queue.

        Raises:
            FrameError: ``unknown_mailbox`` or ``terminated``.
        """
        answer = await self._run("attach", self._box_keys(uid), [token])
        if not isinstance(answer, int):
            self._raise_for(answer, uid)
        return int(answer)

    async def release(self, uid: str, token: str) -> None:
        """``token`` stops listening: if it still owned ``uid``, its unacked messages requeue."""
        await self._run("detach", self._box_keys(uid), [token])

    async def ack_upto(self, uid: str, token: str, upto: int) -> int:
        """Forget ``uid``'s in-flight messages up to ``upto`` if ``token`` owns it.

        Returns:
            The queue's length, or -1 if ``token`` no longer owns the mailbox.
        """
        return int(await self._run("ack", self._box_keys(uid), [token, upto]))

    def queue_ack(self, pipe: Any, uid: str, token: str, upto: int) -> None:
        """Add :meth:`ack_upto` to a pipeline, as a bare ``EVALSHA``.

        redis-py checks a pipeline's script objects with a ``SCRIPT EXISTS`` round trip
        on every execute; the bare call has none. The script is loaded by :meth:`start`;
        after a Redis restart the pipeline fails with ``NoScriptError``: call
        :meth:`load_scripts` and run it again.
        """
        keys = self._box_keys(uid)
        pipe.evalsha(self._scripts["ack"].sha, len(keys), *keys, token, upto)

    async def load_scripts(self) -> None:
        """Load every script into Redis (again, after a restart emptied its cache)."""
        for script in self._scripts.values():
            await self._redis.script_load(script.script)

    async def give_back(self, uid: str, items: list[str]) -> None:
        """Put raw in-flight items (oldest first) back at the front of ``uid``'s queue."""
        await self._run("give_back", self.queue_keys(uid), items)

    def queue_keys(self, uid: str) -> list[str]:
        """``[queue, inflight]`` keys of ``uid`` (a blocking ``BLMOVE`` goes between them)."""
        return [self._key("q", uid), self._key("inflight", uid)]

    @property
    def client(self) -> Any:
        """The ``redis.asyncio.Redis`` client (started)."""
        return self._redis

    async def heartbeat(self, uid: str) -> None:
        """Record that ``uid``'s client is alive now (by Redis's clock)."""
        self._raise_for(await self._run("heartbeat", [self._key("box", uid)], []), uid)

    async def status(self, uid: str) -> tuple[str, float | None]:
        """``("missing"|"terminated"|"active", seconds since the last heartbeat or None)``."""
        state, age = await self._run("status", [self._key("box", uid)], [])
        return _text(state), float(_text(age)) if _text(age) else None

    async def terminate(self, uid: str) -> list[str]:
        """Terminate ``uid``; return its unanswered requests' JSON for the caller to answer."""
        keys = [*self._box_keys(uid), self._key("pending", uid), f"{self.prefix}:agents"]
        pending = await self._run("terminate", keys, [uid, self._channel(uid)])
        return [_text(item) for item in pending]

    async def discover(self, agent: str, subclasses: bool) -> list[tuple[str, str | None]]:
        """Live agent mailboxes whose class is ``agent`` (or a subclass): (uid, name)."""
        assert self._redis is not None
        uids = sorted(_text(uid) for uid in await self._redis.smembers(f"{self.prefix}:agents"))
        async with self._redis.pipeline(transaction=False) as pipe:
            for uid in uids:
                pipe.hmget(self._key("box", uid), ["mro", "name", "terminated"])
            rows = await pipe.execute()
        found = []
        for uid, (mro_json, name, terminated) in zip(uids, rows, strict=True):
            if mro_json is None or (terminated is not None and _text(terminated) == "1"):
                continue
            mro = json.loads(mro_json)
            if mro and (mro[0] == agent or (subclasses and agent in mro)):
                found.append((uid, _text(name) if name is not None else None))
        return found

    async def stats(self, uid: str) -> dict[str, int]:
        """Academy ``AgentStats`` fields of ``uid`` (zeros for a missing mailbox)."""
        assert self._redis is not None
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hmget(self._key("box", uid), ["completions", "outgoing"])
            pipe.hlen(self._key("pending", uid))
            pipe.llen(self._key("q", uid))
            pipe.llen(self._key("inflight", uid))
            (completions, outgoing), pending, queue, inflight = await pipe.execute()
        done = int(completions or 0)
        queued = int(queue) + int(inflight)
        return {
            "incoming": done + int(pending),
            "outgoing": int(outgoing or 0),
            "completed": done,
            "in_progress": max(0, int(pending) - queued),
            "queued": queued,
        }
