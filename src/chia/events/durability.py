"""Group commit: wait until what a writer has appended is on disk (fsync).

An :class:`~chia.events.writer.EventWriter` appends each line with one ``write`` on an
``O_APPEND`` descriptor: from then on the line survives the death of its process (it is
in the kernel's page cache), but not the loss of the machine. :class:`GroupCommit` adds
the second guarantee for whoever must promise it to someone else, e.g. an agent about to
acknowledge a message: :meth:`GroupCommit.durable` returns once every line written before
the call is fsynced.

Two modes (``chia spawn-site --fsync``):

* ``batch`` (default): group commit. The fsync runs once the event loop has run every
  task that was ready, so one fsync covers every line written in that loop iteration
  (every message that arrived together), and callers that come while a slow fsync runs
  in a thread share the next one. A caller waits for one loop iteration plus one fsync:
  ~0.1 ms on a local disk, far inside the 5 ms a batch may take, with no timer (a timer
  would add its whole window to every acknowledgement of a one-at-a-time exchange).
* ``message``: one fsync per call, nothing shared; the slowest and the simplest to reason
  about.
* ``none``: no fsync. An acknowledged message survives its receiver's death but not the
  loss of the machine (or of a node's page cache on a parallel filesystem, where fsync
  can take tens of ms). For runs whose run dir is on tmpfs, and for benchmarks.

With ``batch`` or ``message`` the loss window for an acknowledged message is zero: the
acknowledgement goes out only after the fsync that covers its receive event returned.

Where fsync is fast (a local disk: ~0.1 ms here) it runs on the event loop itself: a hop
to a worker thread would cost more than the fsync. Where it is slow (a parallel
filesystem: tens of ms) it moves to a worker thread, so the loop keeps serving; the
switch follows a running average of the measured fsync time.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Literal, Protocol

__all__ = ["FsyncMode", "GroupCommit", "SyncTarget"]

FsyncMode = Literal["batch", "message", "none"]


class SyncTarget(Protocol):
    """What group commit needs of a writer: its file, descriptor and how much it wrote."""

    path: Path

    @property
    def writes(self) -> int:
        """How many appends the writer has made so far (monotonic)."""
        ...

    def fileno(self) -> int:
        """The descriptor the writer appends to."""
        ...


class GroupCommit:
    """Makes a writer's appended lines durable, sharing fsyncs between waiters.

    Args:
        target: The writer whose lines must reach the disk.
        mode: ``batch`` (share fsyncs), ``message`` (one per call) or ``none``.
    """

    #: Above this running average, fsync leaves the event loop for a worker thread.
    SLOW_FSYNC_S = 0.001

    def __init__(self, target: SyncTarget, mode: FsyncMode = "batch") -> None:
        self._target = target
        self.mode: FsyncMode = mode
        self._synced = 0  # every write up to this count is on disk
        self._next: asyncio.Future[None] | None = None  # the flush waiters join
        self._directory_synced = False
        self._cost_s = 0.0  # running average of one fsync
        self.fsyncs = 0

    async def durable(self) -> None:
        """Return once every line the writer appended before this call is fsynced."""
        if self.mode == "none":
            return
        wanted = self._target.writes
        if self.mode == "message":
            await self._sync(wanted)
            return
        loop = asyncio.get_running_loop()
        while self._synced < wanted:
            if self._next is None:
                self._next = loop.create_future()
                loop.call_soon(self._flush)  # after every task ready now has written
            await asyncio.shield(self._next)

    def _flush(self) -> None:
        """Fsync every write so far, then resolve the waiters of this flush."""
        waiters, self._next = self._next, None
        assert waiters is not None
        upto = self._target.writes
        if self._directory_synced and self._cost_s < self.SLOW_FSYNC_S:
            self._fsync_here(upto)  # the common case: no task, no thread
            waiters.set_result(None)
            return
        task = asyncio.ensure_future(self._sync(upto))

        def done(finished: asyncio.Future[None]) -> None:
            if finished.cancelled():
                waiters.cancel()
            elif (error := finished.exception()) is not None:
                waiters.set_exception(error)
            else:
                waiters.set_result(None)

        task.add_done_callback(done)

    async def _sync(self, upto: int) -> None:
        if self._synced >= upto:
            return
        if not self._directory_synced:  # a new file is durable once its name is too
            await asyncio.to_thread(_fsync_directory, self._target.path.parent)
            self._directory_synced = True
        if self._cost_s < self.SLOW_FSYNC_S:
            self._fsync_here(upto)
            return
        started = time.perf_counter()
        await asyncio.to_thread(os.fsync, self._target.fileno())
        self._account(started, upto)

    def _fsync_here(self, upto: int) -> None:
        started = time.perf_counter()
        os.fsync(self._target.fileno())
        self._account(started, upto)

    def _account(self, started: float, upto: int) -> None:
        self._cost_s = 0.8 * self._cost_s + 0.2 * (time.perf_counter() - started)
        self.fsyncs += 1
        self._synced = max(self._synced, upto)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
