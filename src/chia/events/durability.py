"""Group commit: wait until what a writer has appended is on disk (fsync).

An :class:`~chia.events.writer.EventWriter` appends each line with one ``write`` on an
``O_APPEND`` descriptor: from then on the line survives the death of its process (it is
in the kernel's page cache), but not the loss of the machine. :class:`GroupCommit` adds
the second guarantee for whoever must promise it to someone else, e.g. an agent about to
acknowledge a message: :meth:`GroupCommit.durable` returns once every line written before
the call is fsynced.

Two modes (``chia spawn-site --fsync``):

* ``batch`` (default): one fsync covers every line written before it started, so callers
  that arrive while an fsync runs share the next one. A caller waits for at most the fsync
  in flight plus its own; on a local disk each takes a few ms, which bounds a batch
  (~5 ms) without any timer.
* ``message``: one fsync per call, nothing shared; the slowest and the simplest to reason
  about.
* ``none``: no fsync. An acknowledged message survives its receiver's death but not the
  loss of the machine (or of a node's page cache on a parallel filesystem, where fsync
  can take tens of ms). For runs whose run dir is on tmpfs, and for benchmarks.

With ``batch`` or ``message`` the loss window for an acknowledged message is zero: the
acknowledgement goes out only after the fsync that covers its receive event returned.
"""

from __future__ import annotations

import asyncio
import os
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

    def __init__(self, target: SyncTarget, mode: FsyncMode = "batch") -> None:
        self._target = target
        self.mode: FsyncMode = mode
        self._synced = 0  # every write up to this count is on disk
        self._flight: asyncio.Task[None] | None = None
        self._directory_synced = False
        self.fsyncs = 0

    async def durable(self) -> None:
        """Return once every line the writer appended before this call is fsynced."""
        wanted = self._target.writes
        if self.mode == "none":
            return
        if self.mode == "message":
            await self._fsync(wanted)
            return
        while self._synced < wanted:
            flight = self._flight
            if flight is None or flight.done():
                flight = self._flight = asyncio.ensure_future(self._fsync(self._target.writes))
            await asyncio.shield(flight)

    async def _fsync(self, upto: int) -> None:
        if not self._directory_synced:  # a new file is durable once its name is too
            await asyncio.to_thread(_fsync_directory, self._target.path.parent)
            self._directory_synced = True
        await asyncio.to_thread(os.fsync, self._target.fileno())
        self.fsyncs += 1
        self._synced = max(self._synced, upto)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
