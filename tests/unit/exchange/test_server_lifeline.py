"""A managed exchange server dies with its parent, even one killed with SIGKILL."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

PARENT = """
import time
from chia.exchange.server import ExchangeServer
server = ExchangeServer(lifeline={lifeline})
server.start()
print(server.url, server.pid, flush=True)
time.sleep(60)
"""


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("lifeline", [True, False])
def test_server_child_follows_a_sigkilled_parent(lifeline):
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(lifeline=lifeline)],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    assert parent.stdout is not None
    url, pid = parent.stdout.readline().split()
    port = int(url.rsplit(":", 1)[1])
    try:
        assert _listening(port)
        parent.send_signal(signal.SIGKILL)  # no handler of the parent runs
        parent.wait()
        # (an orphan would keep it for good: a short look is enough to see it there)
        deadline = time.monotonic() + (10 if lifeline else 1)
        while _listening(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        # Without the lifeline the orphan keeps the port: the check can fail.
        assert _listening(port) is not lifeline
    finally:
        with contextlib.suppress(ProcessLookupError):  # the orphan made on purpose
            os.kill(int(pid), signal.SIGKILL)
