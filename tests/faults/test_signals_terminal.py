"""Closing the terminal of `chia demo` or `chia spawn-site` leaves nothing running.

The real thing rather than a SIGHUP sent by hand: the command runs with a pseudo-terminal
as its controlling terminal, and the test closes the terminal's master side mid-run, as a
terminal window or a dropped ssh session does. The kernel then sends SIGHUP to the
terminal's foreground process group, and every later write to the terminal fails, so
clean-up code that prints must not stop half-way because it cannot.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from chia.testing.proctree import snapshot, wait_for_no_leftovers

CHIA = str(Path(sys.executable).parent / "chia")


def _take_terminal() -> None:
    """In the child: a new session whose controlling terminal is stdin (the pty)."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """A pseudo-terminal running one command; its output is read until it is closed."""

    def __init__(self, argv: list[str]) -> None:
        self.master, slave = os.openpty()
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, preexec_fn=_take_terminal
        )
        os.close(slave)
        self.output = ""
        self._closing = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        # select, not a blocking read: a read in progress would keep the master open
        # past close(), and the terminal would never hang up.
        while not self._closing.is_set():
            if not select.select([self.master], [], [], 0.05)[0]:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # EIO once every child has let go of the terminal
                return
            if not chunk:
                return
            self.output += chunk.decode(errors="replace")

    def wait_for(self, pattern: str, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while not re.search(pattern, self.output):
            assert self.proc.poll() is None, f"exited {self.proc.returncode}:\n{self.output}"
            assert time.monotonic() < deadline, f"never saw {pattern!r}:\n{self.output}"
            time.sleep(0.05)

    def close(self) -> None:
        """Hang up: the terminal goes away."""
        self._closing.set()
        self._reader.join()
        os.close(self.master)


@pytest.mark.parametrize("command", ["demo", "spawn-site"])
def test_closing_the_terminal_stops_everything(tmp_path, exchange, command):
    runs = str(tmp_path / "runs")
    if command == "demo":
        argv = [CHIA, "demo", "--no-dashboard", "--runs-dir", runs]
        landmarks = [r"agent-aurora: waiting for peers", r"agent-crux: waiting for peers"]
    else:
        argv = [CHIA, "spawn-site", "--system", "local", "--campaign", "federated-chat"]
        argv += ["--site", "aurora", "--agents", "agent-aurora", "--run-id", "hangup"]
        argv += [*exchange.args, "--runs-dir", runs, "--no-bootstrap"]
        landmarks = [r"agent-aurora: waiting for peers"]
    terminal = Terminal(argv)
    try:
        for landmark in landmarks:
            terminal.wait_for(landmark)
        before = snapshot(terminal.proc.pid)
        assert len(before.processes) >= 2, before.describe()
        terminal.close()
        code = terminal.proc.wait(timeout=60)
        left = wait_for_no_leftovers(before)
    finally:
        if terminal.proc.poll() is None:
            terminal.proc.kill()
            terminal.proc.wait()
    assert not left, f"left behind:\n{left.describe()}\nwas:\n{before.describe()}"
    assert code != 0, terminal.output
