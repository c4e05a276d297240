"""Stop signals (SIGINT, SIGTERM, SIGHUP) turned into an exception, so clean-up runs.

By default SIGTERM and SIGHUP end a Python process on the spot: no ``finally``, no
``with`` exit, so the children and servers it started are orphaned and their ports stay
bound. A batch system's walltime sends SIGTERM; a closed terminal sends SIGHUP; Ctrl-C
sends SIGINT. Inside :func:`interruptible` each of them raises :class:`Interrupted`
(a ``KeyboardInterrupt``, so no ``except Exception`` on the way swallows it) and the
usual unwinding stops what was started.

Only the first signal counts: one arriving while the clean-up runs is noted and ignored,
so it cannot cut the clean-up short (each clean-up step has its own grace period; SIGKILL
remains for the impatient). Code running an event loop inside the block uses
:func:`run_interruptible` instead of ``asyncio.run``: there the signal cancels the
coroutine (its own ``finally`` blocks and ``async with`` exits run at an ``await``, not
at an arbitrary bytecode of some library task) and only then raises. Servers whose normal
end is a signal report theirs through :func:`note_signal`, so it counts as the first.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Coroutine, Iterator
from types import FrameType
from typing import Any, TypeVar

__all__ = [
    "STOP_SIGNALS",
    "Interrupted",
    "interruptible",
    "note_signal",
    "run_interruptible",
    "signal_name",
]

T = TypeVar("T")

#: The signals that ask a command to stop: Ctrl-C, kill/walltime, a closed terminal.
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

#: Signals received in the active :func:`interruptible` block (None outside any).
_received: list[int] | None = None


def signal_name(signum: int) -> str:
    """``SIGTERM`` for 15, and so on (``signal N`` for an unknown number)."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


class Interrupted(KeyboardInterrupt):
    """A stop signal arrived; ``signum`` says which.

    Attributes:
        signum: The signal number.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(f"interrupted by {signal_name(signum)}")
        self.signum = signum


def note_signal(signum: int) -> bool:
    """Record a stop signal; True if it is the first of the active block (or no block)."""
    if _received is None:
        return True
    _received.append(signum)
    return len(_received) == 1


@contextlib.contextmanager
def interruptible() -> Iterator[list[int]]:
    """Within the block, the first stop signal raises :class:`Interrupted`.

    Nested blocks share the outermost one's handlers and record. Outside the main thread
    (where Python cannot install handlers) it does nothing.

    Yields:
        The signals received so far (only the first one raised).
    """
    global _received
    if _received is not None or threading.current_thread() is not threading.main_thread():
        yield _received if _received is not None else []
        return

    def on_signal(signum: int, frame: FrameType | None) -> None:
        if note_signal(signum):
            raise Interrupted(signum)

    received: list[int] = []
    _received = received
    previous = {signum: signal.signal(signum, on_signal) for signum in STOP_SIGNALS}
    try:
        yield received
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _received = None


def run_interruptible(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)``, where a stop signal cancels ``coro`` and then raises.

    Raises:
        Interrupted: Once ``coro`` has finished cancelling, for the first stop signal.
    """
    stopped_by: list[int] = []

    async def main() -> T:
        task = asyncio.current_task()
        loop = asyncio.get_running_loop()

        def on_signal(signum: int) -> None:
            if note_signal(signum) and not stopped_by and task is not None:
                stopped_by.append(signum)
                task.cancel()

        previous = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
        installed = []
        for signum in STOP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(signum, on_signal, signum)
                installed.append(signum)
        try:
            return await coro
        finally:
            for signum in installed:
                # asyncio leaves SIG_DFL behind: put back what was there.
                loop.remove_signal_handler(signum)
                if (handler := previous[signum]) is not None:
                    signal.signal(signum, handler)

    try:
        result = asyncio.run(main())
    except asyncio.CancelledError:
        if stopped_by:
            raise Interrupted(stopped_by[0]) from None
        raise
    finally:
        coro.close()  # never started (a signal during the loop's set-up): no warning
    if stopped_by:  # the coroutine swallowed its cancellation: the stop still stands
        raise Interrupted(stopped_by[0])
    return result
