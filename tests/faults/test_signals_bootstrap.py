"""`chia bootstrap` waiting for a recipient that never comes stops at once on a signal.

It starts no process; what must hold is a prompt exit 1 with one line saying it was
interrupted (the long timeout proves it did not simply time out), and no traceback.
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


@pytest.mark.parametrize("signum", STOPS, ids=lambda s: s.name)
def test_bootstrap_stops_waiting(exchange, signum):
    argv = [CHIA, "bootstrap", "--run-id", "nobody-home", "--campaign", "federated-chat"]
    argv += [*exchange.args, "--timeout-s", "600"]
    with background_command(argv, r"waiting for agent-aurora") as bootstrap:
        before = snapshot(bootstrap.proc.pid)
        bootstrap.proc.send_signal(signum)
        code = bootstrap.proc.wait(timeout=30)  # far less than --timeout-s
        left = wait_for_no_leftovers(before)
    assert not left, left.describe()
    output = bootstrap.output
    name = signal.Signals(signum).name
    assert code == 1, output
    assert f"bootstrap interrupted by {name}; stopped waiting for agent-aurora" in output
    assert "Traceback" not in output, output
    assert "never answered" not in output, output
