"""Child processes: stopped the same way everywhere, and checked for still running.

Stopping is SIGTERM, a grace period, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["is_running", "stop_process", "stop_processes"]


def is_running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie.

    A process whose parent is init (backgrounded, or orphaned) may stay a zombie until
    init gets round to reaping it; it has stopped running all the same.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False  # gone between the two checks
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rpartition(")")[2].split()[0] != "Z"


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
