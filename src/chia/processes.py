"""Stopping child processes the same way everywhere: SIGTERM, a grace period, SIGKILL."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Iterable
from typing import Any

__all__ = ["stop_process", "stop_processes"]


def stop_processes(
    procs: Iterable[subprocess.Popen[Any]], grace_s: float = 5.0, signum: int = signal.SIGTERM
) -> None:
    """Signal every running process, wait up to ``grace_s`` for all, then SIGKILL the rest.

    The grace period is shared: stopping ten processes takes ``grace_s`` at most, not ten
    times that. Every process is reaped on return, so none is left a zombie.
    """
    procs = list(procs)
    for proc in procs:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # exited meanwhile
                proc.send_signal(signum)
    deadline = time.monotonic() + grace_s
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def stop_process(
    proc: subprocess.Popen[Any], grace_s: float = 5.0, signum: int = signal.SIGTERM
) -> None:
    """Stop one process (see :func:`stop_processes`)."""
    stop_processes([proc], grace_s, signum)
