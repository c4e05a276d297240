"""`chia dashboard` stopped by a signal frees its port and leaves no ssh or rsync behind.

Locally (``--local``) it starts no process: a stop signal is its normal end (exit 0, the
signal named) and the port must be free. Over ssh (``--system``, a real sshd on
loopback) it runs one ControlMaster per site, which backgrounds itself out of reach of
the dashboard's process group, and rsync passes over it: every signal, and SIGKILL of
the dashboard, must leave neither running.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from chia.testing.processes import background_command
from chia.testing.proctree import all_processes, snapshot, wait_for_no_leftovers
from chia.testing.sample_run import write_two_site_run
from chia.testing.sshd import sshd_server

CHIA = str(Path(sys.executable).parent / "chia")
URL = r"dashboard: http://127\.0\.0\.1:(\d+)/"
STOPS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP]


@pytest.mark.parametrize("signum", STOPS, ids=lambda s: s.name)
def test_local_dashboard_frees_its_port(tmp_path, signum):
    write_two_site_run(tmp_path / "runs", "run-1")
    argv = [CHIA, "dashboard", "run-1", "--local", str(tmp_path / "runs"), "--port", "0"]
    with background_command(argv, URL) as dashboard:
        assert dashboard.match is not None
        port = int(dashboard.match.group(1))
        before = snapshot(dashboard.proc.pid)
        assert port in before.ports, before.describe()
        dashboard.proc.send_signal(signum)
        code = dashboard.proc.wait(timeout=30)
        left = wait_for_no_leftovers(before)
    assert not left, left.describe()
    output = dashboard.output
    assert code == 0, output
    assert f"dashboard: stopped ({signal.Signals(signum).name})" in output, output
    assert "Traceback" not in output, output


@pytest.fixture(scope="module")
def sshd():
    with sshd_server(["aurora-login"]) as server:
        yield server


def _ssh_processes(control: Path) -> list[str]:
    """ssh and rsync processes riding on (or being) a master under ``control``."""
    return [
        f"{info.pid} {info.command}"
        for info in all_processes().values()
        if str(control) in info.command and info.state != "Z"
    ]


OVER_SSH = [
    *(pytest.param(signum, False, id=signum.name) for signum in STOPS),
    pytest.param(signal.SIGKILL, False, id="SIGKILL"),
    # A batch system's last word: everything in the group at once, reaper excepted.
    pytest.param(signal.SIGKILL, True, id="SIGKILL-to-group"),
]


@pytest.mark.parametrize(("signum", "to_group"), OVER_SSH)
def test_dashboard_over_ssh_leaves_no_master(
    sshd, tmp_path, ssh_control_dir, no_leftovers, signum, to_group
):
    root = tmp_path / "aurora-fs" / "runs"
    write_two_site_run(tmp_path / "written", "fed-1")
    (root / "fed-1").mkdir(parents=True)
    (tmp_path / "written" / "fed-1" / "aurora").rename(root / "fed-1" / "aurora")
    profile = tmp_path / "aurora.json"
    profile.write_text(
        json.dumps({"name": "aurora", "remote_host": "aurora-login", "run_root": str(root)})
    )
    control = ssh_control_dir
    argv = [CHIA, "dashboard", "fed-1", "--system", str(profile), "--port", "0"]
    argv += ["--mirror-dir", str(tmp_path / "mirror"), "--interval-s", "0.2"]
    argv += ["--ssh-config", str(sshd.ssh_config), "--control-dir", str(control)]
    with background_command(argv, URL) as dashboard:
        assert dashboard.match is not None
        no_leftovers.watch_port(int(dashboard.match.group(1)))
        assert _ssh_processes(control), "no ssh master found"
        before = snapshot(dashboard.proc.pid)
        if to_group:
            os.killpg(dashboard.proc.pid, signum)
        else:
            dashboard.proc.send_signal(signum)
        code = dashboard.proc.wait(timeout=30)
        left = wait_for_no_leftovers(before)
        deadline = time.monotonic() + 15
        while _ssh_processes(control) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not left, left.describe()
    assert _ssh_processes(control) == [], "ssh or rsync left running"
    assert not list(control.glob("*.sock")), "a control socket was left behind"
    if signum == signal.SIGKILL:
        assert code == -signal.SIGKILL
        return
    output = dashboard.output
    assert code == 0, output
    assert f"dashboard: stopped ({signal.Signals(signum).name})" in output, output
    assert "[aurora] closed the ssh master" in output, output
    assert "Traceback" not in output, output
