"""`chia spawn-site` stopped by a signal leaves no host process behind.

The site waits for a peer that never comes (only agent-aurora of federated-chat), so it
is surely mid-run when the signal arrives: to the spawn-site process alone (its hosts
hear nothing but what it tells them); to its whole group, as a closed terminal sends
SIGHUP, Ctrl-C SIGINT and a batch system's walltime SIGTERM; and SIGKILL, which no
handler sees: each host's lifeline must stop it.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from chia.testing.processes import background_command
from chia.testing.proctree import snapshot, wait_for_no_leftovers

CHIA = str(Path(sys.executable).parent / "chia")
#: The host is inside its runtime, waiting for its peer.
WAITING = r"agent-aurora: waiting for peers"

CASES = [
    pytest.param("local", signal.SIGTERM, False, id="local-SIGTERM"),
    pytest.param("local", signal.SIGINT, False, id="local-SIGINT"),
    pytest.param("local", signal.SIGHUP, False, id="local-SIGHUP"),
    pytest.param("local", signal.SIGHUP, True, id="local-SIGHUP-to-group"),
    pytest.param("local", signal.SIGINT, True, id="local-SIGINT-to-group"),
    pytest.param("local", signal.SIGTERM, True, id="local-SIGTERM-to-group"),
    pytest.param("local", signal.SIGKILL, False, id="local-SIGKILL"),
    # mpiexec runs no code of ours between spawn-site and the ranks: it needs a lifeline.
    pytest.param("mpiexec", signal.SIGTERM, False, id="mpiexec-SIGTERM"),
    pytest.param("mpiexec", signal.SIGHUP, True, id="mpiexec-SIGHUP-to-group"),
    pytest.param("mpiexec", signal.SIGKILL, False, id="mpiexec-SIGKILL"),
]


@pytest.mark.parametrize(("launcher", "signum", "to_group"), CASES)
def test_spawn_site_stops_every_host(tmp_path, exchange, launcher, signum, to_group):
    run_id = f"sig-{signal.Signals(signum).name.lower()}{'-group' if to_group else ''}"
    argv = [CHIA, "spawn-site", "--system", "local", "--launcher", launcher]
    argv += ["--campaign", "federated-chat"]
    argv += ["--site", "aurora", "--agents", "agent-aurora", "--run-id", run_id]
    argv += [*exchange.args, "--runs-dir", str(tmp_path / "runs"), "--no-bootstrap"]
    with background_command(argv, WAITING, timeout_s=60) as site:
        before = snapshot(site.proc.pid)
        hosts = [p for p in before.processes if "chia.site.host" in p.command]
        assert hosts, before.describe()
        if to_group:
            os.killpg(site.proc.pid, signum)
        else:
            os.kill(site.proc.pid, signum)
        code = site.proc.wait(timeout=60)
        left = wait_for_no_leftovers(before)
    assert not left, f"left behind:\n{left.describe()}\nwas:\n{before.describe()}"
    if signum == signal.SIGKILL:
        assert code == -signal.SIGKILL
        return
    output = site.output
    assert code == 1, output
    assert "[aurora] interrupted: stopped every agent process" in output, output
    assert "restart 1/" not in output, output  # a stopped site restarts nothing
    assert "Traceback" not in output, output
