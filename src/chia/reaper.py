"""A watcher that stops registered processes once its owner dies, however it dies.

:func:`chia.processes.die_with_parent` covers children that run our code. It cannot cover
a process that detaches itself: ``ssh -M -f`` forks, calls ``setsid`` and leaves its
parent's tree (``PR_SET_PDEATHSIG`` is cleared on fork), so a dashboard killed with
SIGKILL would leave each site's ControlMaster running, and its socket bound, forever.

:class:`Reaper` starts ``python -m chia.reaper`` in a session of its own (out of reach of
the signals sent to its owner's group) with a pipe from its owner on stdin. The owner
registers each such process (pid, start time, and optionally a socket path to remove)
and unregisters it once it has stopped it itself. When the pipe closes (the owner exited
or was killed: the kernel closes its end either way), the watcher stops what is still
registered, SIGTERM then SIGKILL after a grace period, and exits. The start time guards
against a recycled pid.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import IO

from chia.processes import is_running, stop_process

__all__ = ["Reaper", "start_time"]

GRACE_S = 3.0


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[19])


class Reaper:
    """Stops the processes registered with it when this process dies; a context manager.

    Example:
        ```python
        with Reaper() as reaper:
            reaper.watch(master_pid, socket_path)   # a detached ssh master
            ...
            reaper.forget(master_pid)               # stopped it ourselves
        ```

    Leaving the block (or :meth:`close`) ends the watcher, which stops whatever is
    still registered: the same as the owner dying.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._pipe: IO[str] | None = None

    def start(self) -> Reaper:
        """Start the watcher process (idempotent)."""
        if self._proc is None:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "chia.reaper"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                text=True,
                start_new_session=True,  # a signal to our group must not reach it
            )
            self._pipe = self._proc.stdin
        return self

    def _send(self, line: str) -> None:
        if self._pipe is None:
            raise RuntimeError("the reaper is not started")
        self._pipe.write(line + "\n")
        self._pipe.flush()

    def watch(self, pid: int, remove: Path | None = None) -> None:
        """Stop ``pid`` (and remove the file ``remove``) if this process dies first."""
        started = start_time(pid)
        if started is not None:
            self._send(f"+ {pid} {started} {remove or ''}".rstrip())

    def forget(self, pid: int) -> None:
        """``pid`` was stopped by its owner: leave it alone."""
        with contextlib.suppress(RuntimeError, OSError):
            self._send(f"- {pid}")

    def close(self) -> None:
        """End the watcher; it stops what is still registered. Idempotent."""
        proc, pipe = self._proc, self._pipe
        self._proc = self._pipe = None
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
        if proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=GRACE_S + 5)
            stop_process(proc, grace_s=1.0)

    def __enter__(self) -> Reaper:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _reap(watched: dict[int, tuple[int, str]]) -> None:
    """SIGTERM every watched process that is still the one registered, then SIGKILL."""
    live = [pid for pid, (started, _) in watched.items() if start_time(pid) == started]
    for signum in (signal.SIGTERM, signal.SIGKILL):
        for pid in live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
        deadline = time.monotonic() + GRACE_S
        while any(is_running(pid) for pid in live) and time.monotonic() < deadline:
            time.sleep(0.05)
        live = [pid for pid in live if is_running(pid)]
        if not live:
            break
    for _, remove in watched.values():
        if remove:
            with contextlib.suppress(OSError):
                Path(remove).unlink()


def main() -> int:
    """Watcher entry point: read registrations until stdin closes, then reap."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_IGN)  # only the pipe's end decides
    watched: dict[int, tuple[int, str]] = {}
    for line in sys.stdin:
        op, _, rest = line.rstrip("\n").partition(" ")
        fields = rest.split(" ", 2)
        with contextlib.suppress(ValueError, IndexError):
            if op == "+":
                watched[int(fields[0])] = (int(fields[1]), fields[2] if len(fields) > 2 else "")
            elif op == "-":
                watched.pop(int(fields[0]), None)
    _reap(watched)
    return 0


if __name__ == "__main__":
    sys.exit(main())
