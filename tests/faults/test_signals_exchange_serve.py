"""`chia exchange serve` stopped by a signal frees its port, says so, and exits 0.

A stop signal is the server's normal end (it has no work of its own to finish), so the
exit code is 0 and the line names the signal. It starts no child process; SIGKILL needs
no lifeline here (the kernel closes the socket), so it is not a case.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from chia.testing.processes import background_command
from chia.testing.proctree import snapshot, wait_for_no_leftovers

CHIA = str(Path(sys.executable).parent / "chia")
STOPS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]
LISTENING = r"exchange listening on http://127\.0\.0\.1:(\d+)"


@pytest.mark.parametrize("signum", STOPS, ids=lambda s: s.name)
def test_exchange_serve_frees_its_port(signum):
    with background_command([CHIA, "exchange", "serve", "--port", "0"], LISTENING) as server:
        assert server.match is not None
        port = int(server.match.group(1))
        before = snapshot(server.proc.pid)
        assert port in before.ports, before.describe()
        server.proc.send_signal(signum)
        code = server.proc.wait(timeout=30)
        left = wait_for_no_leftovers(before)
    assert not left, left.describe()
    output = server.output
    assert code == 0, output
    assert f"exchange stopped ({signal.Signals(signum).name})" in output, output
    assert "Traceback" not in output, output
