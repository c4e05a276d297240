"""Running one shell command in its own process group, with a timeout that kills the group.

Output (stdout and stderr combined) goes to a temporary file rather than a pipe, so a
killed command's stray grandchildren cannot keep a read blocked, and only the tail is
kept in memory. Groups still running are tracked so a stopping tool server can kill
them (:func:`kill_running_groups`): nothing it started outlives it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["OUTPUT_LIMIT", "ShellResult", "kill_running_groups", "run_shell"]

#: Characters of combined output kept (the tail).
OUTPUT_LIMIT = 20_000

_running: set[int] = set()
_running_lock = threading.Lock()


@dataclass(frozen=True)
class ShellResult:
    """What a command did.

    Attributes:
        exit_code: The exit status (negative: killed by that signal).
        output: Combined stdout and stderr, tail-truncated to ``OUTPUT_LIMIT``.
        timed_out: True if the timeout expired and the process group was killed.
    """

    exit_code: int
    output: str
    timed_out: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The result as a JSON-ready dict (what tools return)."""
        return asdict(self)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def kill_running_groups() -> int:
    """Kill every process group started by :func:`run_shell` that is still running.

    Returns:
        How many groups were signalled.
    """
    with _running_lock:
        groups = list(_running)
        _running.clear()
    for pgid in groups:
        _kill_group(pgid)
    return len(groups)


def run_shell(
    command: str,
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    limit: int = OUTPUT_LIMIT,
) -> ShellResult:
    """Run ``command`` with bash in a new session (its own process group).

    Args:
        command: The shell command line.
        cwd: Working directory.
        env: Variables added to this process's environment.
        timeout: Seconds before the whole process group is killed (None: no limit).
        limit: Characters of output kept (the tail).

    Returns:
        The exit code, the tail of the combined output, and whether it timed out.
    """
    full_env = {**os.environ, **env} if env else None
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with _running_lock:
            _running.add(proc.pid)
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            # Kill the group even after a normal exit: background children must not leak.
            _kill_group(proc.pid)
            proc.wait()
            with _running_lock:
                _running.discard(proc.pid)
        output = _read_tail(out, limit)
    return ShellResult(exit_code=proc.returncode, output=output, timed_out=timed_out)


def _read_tail(out: Any, limit: int) -> str:
    size = out.seek(0, os.SEEK_END)
    out.seek(max(0, size - 4 * limit))  # 4 bytes per character at most in UTF-8
    kept = out.read().decode("utf-8", errors="replace")[-limit:]
    dropped = size - len(kept.encode("utf-8", errors="replace"))
    return kept if dropped <= 0 else f"[... {dropped} bytes truncated ...]\n{kept}"
