"""Child processes: stopped the same way everywhere, checked for running, tied to a parent.

Stopping is SIGTERM, a grace period, then SIGKILL. A child that must not outlive its
parent even when the parent is killed with SIGKILL (when no handler of ours runs) asks the
kernel for a signal on the parent's death: :func:`die_with_parent`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = ["die_with_parent", "is_running", "stop_process", "stop_processes"]

_PR_SET_PDEATHSIG = 1


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


def _load_libc() -> ctypes.CDLL | None:
    # dlopen(NULL): the C library this Python already uses; no search, no subprocess
    # (ctypes.util.find_library runs ldconfig), so a preexec_fn may call prctl safely.
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _load_libc()


def die_with_parent(signum: int = signal.SIGTERM, parent: int | None = None) -> bool:
    """Ask the kernel to send ``signum`` to this process when its parent dies (Linux).

    Covers the case no handler can: the parent killed with SIGKILL. Call it in the child,
    first thing, or pass it as ``preexec_fn`` (it only makes system calls). The signal is
    tied to the parent *thread* that started the child, so start such children from a
    thread that lives as long as they should. If the parent is already gone when the
    request takes effect, ``signum`` is sent at once.

    Args:
        signum: The signal to receive (SIGTERM: the child's own clean-up runs).
        parent: The pid the parent had (e.g. passed on the command line); default: the
            parent at the time of the call. Passing it closes the window between the
            fork and this call, in which the parent may already have died.

    Returns:
        False where unsupported (then the parent's own clean-up is the only guard).
    """
    if _LIBC is None:
        return False
    expected = os.getppid() if parent is None else parent
    if _LIBC.prctl(_PR_SET_PDEATHSIG, signum, 0, 0, 0) != 0:
        return False
    if os.getppid() != expected:  # the parent died before the request took effect
        os.kill(os.getpid(), signum)
    return True
