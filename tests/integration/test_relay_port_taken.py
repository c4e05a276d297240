"""`chia relay start` on a login node whose relay port another process holds.

The login node is a real sshd on 127.0.0.1 (chia.testing.sshd); the ControlMaster is the
one `chia dashboard --system` would hold; the squatter is a separate real process.
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

from chia.dashboard.ssh import SshMaster, SshTarget
from chia.testing import free_port
from chia.testing.processes import background_command
from chia.testing.proctree import all_processes, snapshot
from chia.testing.sshd import sshd_server


def _relays(root: Path) -> list[str]:
    """The command lines of every relay ``serve`` deployed under ``root`` that runs."""
    return [
        p.command
        for p in all_processes().values()
        if "chia_relay.py serve" in p.command and str(root) in p.command
    ]


def test_relay_start_refuses_a_taken_port_and_leaves_nothing(tmp_path, chia, ssh_control_dir):
    port = free_port()
    root = tmp_path / "aurora-fs" / "runs"
    profile = tmp_path / "aurora.json"
    host_file = root / "relay-host-aurora"
    profile.write_text(
        json.dumps(
            {
                "name": "aurora",
                "remote_host": "aurora-login",
                "run_root": str(root),
                "python": "/usr/bin/python3",
                "relay_port": port,
                "relay_host_file": str(host_file),
            }
        )
    )
    squatter_argv = [sys.executable, "-m", "http.server", str(port), "--bind", "0.0.0.0"]
    with (
        sshd_server(["aurora-login"]) as sshd,
        SshMaster(
            SshTarget("aurora", "aurora-login", sshd.ssh_config), control_dir=ssh_control_dir
        ) as master,
        background_command(squatter_argv, "Serving HTTP") as squatter,
    ):
        env = {
            "CHIA_SSH_CONFIG": str(sshd.ssh_config),
            "CHIA_SSH_CONTROL_DIR": str(ssh_control_dir),
        }
        sshd_pid = int((sshd.workdir / "sshd.pid").read_text())
        assert _relays(root) == []
        # Never a hang: chia() gives up after its timeout.
        done = chia("relay", "start", "--system", str(profile), "--target-port", "9", env=env)
        assert done.returncode == 2, done.stdout + done.stderr
        error = " ".join(done.stderr.split())
        assert f"site aurora: relay port {port} on login node {socket.gethostname()}" in error
        assert f"is already taken by pid {squatter.proc.pid} (" in error and "http.server" in error
        assert "Stop that process, or choose another port: `chia relay start --port N`" in error
        # Nothing left: no relay, no pid file or host file, no reverse tunnel on the master
        # (the login's sshd listens on its own port only).
        assert _relays(root) == []
        assert snapshot(sshd_pid).ports == {sshd.port}
        assert not host_file.exists() and list((root / ".chia-relay").glob("*.json")) == []
        status = chia("relay", "status", "--system", str(profile), env=env)
        assert status.returncode == 3 and "not running" in status.stdout
        assert master.alive()  # the dashboard's master is untouched
        # With another port (what the message says) it starts.
        again = ["--system", str(profile), "--port", str(free_port())]
        other = chia("relay", "start", *again, "--target-port", "9", env=env)
        try:
            assert other.returncode == 0, other.stdout + other.stderr
            assert len(_relays(root)) == 1 and len(snapshot(sshd_pid).ports) == 2  # + tunnel
        finally:
            assert chia("relay", "stop", *again, env=env).returncode == 0
        assert _relays(root) == []
