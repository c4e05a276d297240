"""Server-side mailboxes of the push exchange, in memory (one ``serve`` process).

Each mailbox keeps its messages in arrival order. A message moves from ``queue`` to
``inflight`` when it is pushed to the mailbox's listener, and leaves ``inflight`` when the
listener acknowledges it (``ack upto=seq``). When the listener goes away (its socket
closed or broke, or a newer listener of the same mailbox replaced it), whatever it had
not acknowledged goes back to the front of the queue, in order, for the next listener.
So a message is never lost while the server runs; it may be delivered twice (pushed, then
the socket broke before the ack arrived): the delivery contract above dedupes.

The server's connections drive a :class:`Store`: this module's :class:`MemoryStore` (one
process) or :class:`~chia.exchange.push.redis_store.RedisStore` (several ``serve``
processes over one Redis). Their methods are coroutines; the memory store's never wait.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import Protocol

from chia.exchange.push.protocol import ErrorCode, FrameError

__all__ = ["WINDOW", "Listener", "Mailbox", "MemoryStore", "Store"]

#: Messages pushed to one listener and not yet acknowledged, at most.
WINDOW = 1024


class Listener(Protocol):
    """What a mailbox's connected listener must offer the store."""

    def wake(self) -> None:
        """Messages are waiting: push them."""

    def terminated(self) -> None:
        """The mailbox was terminated: tell the client and stop listening."""


class Store(Protocol):
    """The mailbox operations the server needs (see :class:`MemoryStore` for each one)."""

    async def start(self) -> None:
        """Connect (the memory store has nothing to do)."""

    async def close(self) -> None:
        """Disconnect; every mailbox stays where it is kept."""

    async def ensure(
        self, uid: str, role: str, name: str | None = None, mro: list[str] | None = None
    ) -> object:
        """Create or update ``uid``'s mailbox."""

    async def send(self, dest: str, src: str, kind: str, tag: str, msg: str) -> None:
        """Queue ``msg`` for ``dest``."""

    async def attach(self, uid: str, listener: Listener) -> object:
        """Make ``listener`` the one listener of ``uid``."""

    async def detach(self, uid: str, listener: Listener) -> None:
        """``listener`` is gone."""

    async def take(self, uid: str, listener: Listener) -> list[tuple[int, str]]:
        """Queued messages for ``listener`` to push."""

    async def ack(self, uid: str, listener: Listener, upto: int) -> None:
        """Forget delivered messages."""

    async def heartbeat(self, uid: str) -> None:
        """Record that ``uid``'s client is alive."""

    async def status(self, uid: str) -> tuple[str, float | None]:
        """``uid``'s state and heartbeat age."""

    async def terminate(self, uid: str) -> list[str]:
        """Terminate ``uid``; its unanswered requests."""

    async def discover(self, agent: str, subclasses: bool) -> list[tuple[str, str | None]]:
        """Live agents of a class."""

    async def stats(self, uid: str) -> dict[str, int]:
        """Academy ``AgentStats`` fields."""


@dataclass(eq=False)
class Mailbox:
    """One entity's mailbox and its counters (see :class:`academy.stats.AgentStats`)."""

    uid: str
    role: str
    name: str | None = None
    mro: list[str] = field(default_factory=list)
    terminated: bool = False
    queue: deque[tuple[int, str]] = field(default_factory=deque)
    inflight: OrderedDict[int, str] = field(default_factory=OrderedDict)
    next_seq: int = 1
    listener: Listener | None = None
    heartbeat: float | None = None
    #: Requests sent to this mailbox and not answered yet: tag -> message JSON.
    pending: dict[str, str] = field(default_factory=dict)
    outgoing: int = 0
    completions: int = 0

    def requeue_inflight(self) -> None:
        """Put unacknowledged messages back at the front of the queue, in order."""
        if self.inflight:
            self.queue.extendleft(reversed(self.inflight.items()))
            self.inflight.clear()


class MemoryStore:
    """Every mailbox of one push exchange server, in this process's memory."""

    def __init__(self) -> None:
        self.mailboxes: dict[str, Mailbox] = {}

    async def start(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        """Nothing to disconnect (the mailboxes go with the process)."""

    def _get(self, uid: str) -> Mailbox:
        box = self.mailboxes.get(uid)
        if box is None:
            raise FrameError(ErrorCode.UNKNOWN_MAILBOX, f"no mailbox {uid}")
        if box.terminated:
            raise FrameError(ErrorCode.TERMINATED, f"mailbox {uid} was terminated")
        return box

    def exists(self, uid: str) -> bool:
        """True when ``uid`` has a mailbox (terminated or not)."""
        return uid in self.mailboxes

    async def ensure(
        self, uid: str, role: str, name: str | None = None, mro: list[str] | None = None
    ) -> Mailbox:
        """Create ``uid``'s mailbox, or update an existing one (re-registering keeps its queue).

        Raises:
            FrameError: ``terminated`` if the mailbox was terminated (a uid is not reused).
        """
        box = self.mailboxes.get(uid)
        if box is None:
            box = self.mailboxes[uid] = Mailbox(uid=uid, role=role, name=name)
        elif box.terminated:
            raise FrameError(ErrorCode.TERMINATED, f"mailbox {uid} was terminated")
        if name is not None:
            box.name = name
        if mro is not None:
            box.mro, box.role = list(mro), "agent"
        return box

    async def send(self, dest: str, src: str, kind: str, tag: str, msg: str) -> None:
        """Queue ``msg`` for ``dest`` and wake its listener.

        Raises:
            FrameError: ``unknown_mailbox`` or ``terminated`` for ``dest``.
        """
        box = self._get(dest)
        if kind == "request":
            box.pending[tag] = msg
            sender = self.mailboxes.get(src)
            if sender is not None:
                sender.outgoing += 1
        else:
            answered = self.mailboxes.get(src)
            if answered is not None and answered.pending.pop(tag, None) is not None:
                answered.completions += 1
        box.queue.append((box.next_seq, msg))
        box.next_seq += 1
        if box.listener is not None:
            box.listener.wake()

    async def attach(self, uid: str, listener: Listener) -> Mailbox:
        """Make ``listener`` the one listener of ``uid``; a previous one is detached.

        Raises:
            FrameError: ``unknown_mailbox`` or ``terminated``.
        """
        box = self._get(uid)
        box.requeue_inflight()
        box.listener = listener
        if box.queue:
            listener.wake()
        return box

    async def detach(self, uid: str, listener: Listener) -> None:
        """``listener`` is gone: its unacknowledged messages go back to the queue."""
        box = self.mailboxes.get(uid)
        if box is not None and box.listener is listener:
            box.listener = None
            box.requeue_inflight()

    async def take(self, uid: str, listener: Listener) -> list[tuple[int, str]]:
        """Move queued messages to ``inflight`` (up to the window) for ``listener`` to push."""
        box = self.mailboxes.get(uid)
        if box is None or box.listener is not listener or box.terminated:
            return []
        room = WINDOW - len(box.inflight)
        taken: list[tuple[int, str]] = []
        while box.queue and room > 0:
            seq, msg = box.queue.popleft()
            box.inflight[seq] = msg
            taken.append((seq, msg))
            room -= 1
        return taken

    async def ack(self, uid: str, listener: Listener, upto: int) -> None:
        """Forget messages up to ``upto`` (delivered); wake the listener if more wait."""
        box = self.mailboxes.get(uid)
        if box is None or box.listener is not listener:
            return
        while box.inflight:
            seq = next(iter(box.inflight))
            if seq > upto:
                break
            del box.inflight[seq]
        if box.queue:
            listener.wake()

    async def heartbeat(self, uid: str) -> None:
        """Record that ``uid``'s client is alive now.

        Raises:
            FrameError: ``unknown_mailbox`` or ``terminated``.
        """
        self._get(uid).heartbeat = time.time()

    async def status(self, uid: str) -> tuple[str, float | None]:
        """``("missing"|"terminated"|"active", seconds since the last heartbeat or None)``."""
        box = self.mailboxes.get(uid)
        if box is None:
            return "missing", None
        if box.terminated:
            return "terminated", None
        return "active", None if box.heartbeat is None else time.time() - box.heartbeat

    async def terminate(self, uid: str) -> list[str]:
        """Terminate ``uid`` (no-op if missing); return its unanswered requests' JSON.

        Its queue is dropped and its listener told; the caller answers each returned
        request with Academy's ``MailboxTerminatedError`` response.
        """
        box = self.mailboxes.get(uid)
        if box is None or box.terminated:
            return []
        box.terminated = True
        pending = list(box.pending.values())
        box.pending.clear()
        box.queue.clear()
        box.inflight.clear()
        listener, box.listener = box.listener, None
        if listener is not None:
            listener.terminated()
        return pending

    async def discover(self, agent: str, subclasses: bool) -> list[tuple[str, str | None]]:
        """Live agent mailboxes whose class is ``agent`` (or a subclass): (uid, name)."""
        found = []
        for box in self.mailboxes.values():
            if box.terminated or not box.mro:
                continue
            if box.mro[0] == agent or (subclasses and agent in box.mro):
                found.append((box.uid, box.name))
        return found

    async def stats(self, uid: str) -> dict[str, int]:
        """Academy ``AgentStats`` fields of ``uid`` (zeros for a missing mailbox)."""
        box = self.mailboxes.get(uid)
        if box is None:
            return dict.fromkeys(("incoming", "outgoing", "completed", "in_progress", "queued"), 0)
        queued = len(box.queue) + len(box.inflight)
        pending = len(box.pending)
        return {
            "incoming": box.completions + pending,
            "outgoing": box.outgoing,
            "completed": box.completions,
            "in_progress": max(0, pending - queued),
            "queued": queued,
        }
