"""Run a command in the background until it prints a landmark line, then stop it."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["BackgroundCommand", "background_command"]


@dataclass
class BackgroundCommand:
    """A running command, its combined output so far, and the landmark match."""

    proc: subprocess.Popen[bytes]
    log: Path
    match: re.Match[str] | None = None
    final_output: str | None = None

    @property
    def output(self) -> str:
        """Everything it printed so far (stdout and stderr); all of it once stopped."""
        if self.final_output is not None:
            return self.final_output
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout_s: float = 30.0) -> re.Match[str]:
        """Wait until ``pattern`` (a regex) appears in the output; return its match."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = re.search(pattern, self.output)
            if found:
                return found
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"never saw {pattern!r} (exit {self.proc.poll()}):\n{self.output}")

    def interrupt(self, timeout_s: float = 15.0) -> int:
        """Send SIGINT (Ctrl-C) and return the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(timeout=timeout_s)


@contextlib.contextmanager
def background_command(
    argv: Sequence[str],
    ready: str,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout_s: float = 30.0,
) -> Iterator[BackgroundCommand]:
    """Start ``argv`` in its own process group; yield once its output matches ``ready``.

    On exit the command gets SIGINT, then its whole process group SIGKILL if it lingers.
    """
    with tempfile.NamedTemporaryFile(prefix="chia-bg-", suffix=".log", delete=False) as out:
        log = Path(out.name)
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    command = BackgroundCommand(proc, log)
    try:
        command.match = command.wait_for(ready, timeout_s)
        yield command
    finally:
        try:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        command.final_output = log.read_text(errors="replace")
        log.unlink(missing_ok=True)
