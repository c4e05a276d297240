"""A command interrupted by a stop signal: clean up, say so in one line, exit 1."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import typer

from chia.cli._output import err_console
from chia.interrupts import Interrupted, interruptible, signal_name

__all__ = ["INTERRUPTED_EXIT", "exit_on_stop_signal"]

#: The exit code of a command that a stop signal (SIGINT, SIGTERM, SIGHUP) cut short.
INTERRUPTED_EXIT = 1


@contextlib.contextmanager
def exit_on_stop_signal(what: str, done: str) -> Iterator[None]:
    """Run the block so that SIGINT, SIGTERM or SIGHUP unwind it (see :mod:`chia.interrupts`).

    Once the block's own clean-up has run, print ``<what> interrupted by SIGTERM; <done>``
    on stderr and exit :data:`INTERRUPTED_EXIT`; never a traceback.

    Args:
        what: The command, e.g. ``demo``.
        done: What the clean-up did, e.g. ``stopped both sites and the exchange``.
    """
    try:
        with interruptible():
            yield
    except Interrupted as exc:
        # A closed terminal (SIGHUP) may refuse the write: the exit code still tells.
        with contextlib.suppress(OSError):
            line = f"{what} interrupted by {signal_name(exc.signum)}; {done}"
            err_console.print(line, markup=False)
        raise typer.Exit(INTERRUPTED_EXIT) from None
