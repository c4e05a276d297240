"""Wake the dashboard when a run's files change (Linux inotify), instead of waiting out a poll.

The dashboard re-reads a run every ``poll_interval_s``; a thousand event files make each
re-read cost milliseconds, so the interval cannot be short, and new events showed up
that late. :class:`RunWatch` asks the kernel (``inotify(7)``, through libc with
:mod:`ctypes`: no dependency) to report any write, new file or rename in the run's
directories: the run directory, each site's directory and its ``events/`` and
``status/`` folders. The poller then re-reads as soon as something changed and still
polls, rarely, as a fallback (files on a network file system send no events).

Where inotify is missing (not Linux, no libc, the watch limit reached) :meth:`RunWatch.open`
returns None and the dashboard simply polls as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from chia.dashboard.sites import discover_sites

__all__ = ["RunWatch"]

log = logging.getLogger(__name__)

_IN_MODIFY = 0x002
_IN_ATTRIB = 0x004
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_MASK = _IN_MODIFY | _IN_ATTRIB | _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC


def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        libc.inotify_init1  # noqa: B018 - missing on systems without inotify
    except (OSError, AttributeError):
        return None
    return libc


class RunWatch:
    """An inotify descriptor watching one run's directories.

    Args:
        libc: The C library (its ``inotify_*`` functions).
        fd: The inotify descriptor.
        run_dir: The run directory watched.
    """

    def __init__(self, libc: ctypes.CDLL, fd: int, run_dir: Path) -> None:
        self._libc = libc
        self.fd = fd
        self.run_dir = run_dir
        self._watched: set[Path] = set()

    @classmethod
    def open(cls, run_dir: Path) -> RunWatch | None:
        """Start watching ``run_dir``; None where inotify cannot be used."""
        libc = _libc()
        if libc is None:
            return None
        fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
        if fd < 0:
            log.info("inotify unavailable (errno %d): the dashboard polls", ctypes.get_errno())
            return None
        watch = cls(libc, fd, run_dir)
        watch.update()
        return watch

    def _add(self, path: Path) -> None:
        if path in self._watched or not path.is_dir():
            return
        if self._libc.inotify_add_watch(self.fd, os.fsencode(path), _MASK) >= 0:
            self._watched.add(path)

    def update(self, site_dirs: Iterable[Path] | None = None) -> None:
        """Watch directories that appeared since the last call (a site, its events folder).

        Args:
            site_dirs: The run's site directories when the caller has just found them
                (the store, on each refresh); None to look for them here.
        """
        self._add(self.run_dir.parent)  # the run directory itself may appear later
        self._add(self.run_dir)
        if site_dirs is None:
            site_dirs = discover_sites(self.run_dir).values()
        for site_dir in site_dirs:
            for path in (site_dir, site_dir / "events", site_dir / "status"):
                self._add(path)

    def drain(self) -> bool:
        """Read the pending notifications; True if there were any."""
        seen = False
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return seen
            except OSError:  # closed under us
                return seen
            if not chunk:
                return seen
            seen = True

    def attach(self, loop: asyncio.AbstractEventLoop, changed: asyncio.Event) -> None:
        """Set ``changed`` on ``loop`` whenever something under the run changes."""

        def ready() -> None:
            if self.drain():
                changed.set()

        loop.add_reader(self.fd, ready)

    def close(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Stop watching and close the descriptor."""
        if loop is not None:
            with contextlib.suppress(Exception):
                loop.remove_reader(self.fd)
        with contextlib.suppress(OSError):
            os.close(self.fd)
