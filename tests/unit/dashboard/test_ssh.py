from __future__ import annotations

import socket
import stat
import tempfile
from pathlib import Path

import pytest

from chia.dashboard.ssh import SshError, SshMaster, SshTarget, control_path, short_socket_dir
from chia.processes import is_running
from chia.testing import free_port


def _target(sshd, alias="aurora-login", site="aurora"):
    return SshTarget(site, alias, sshd.ssh_config)


def test_master_runs_commands_and_exits_on_close(sshd, tmp_path):
    master = SshMaster(_target(sshd), control_dir=tmp_path)
    with master:
        pid = master.master_pid()
        assert pid and master.alive()
        assert master.run("echo", "two words").stdout == "two words\n"
        with pytest.raises(SshError, match="aurora: `false` exited 1"):
            master.run("false")
    assert not master.socket.exists()
    assert not is_running(pid)


def test_reuse_attaches_without_owning(sshd, tmp_path):
    with SshMaster(_target(sshd), control_dir=tmp_path) as owner:
        attached = SshMaster(_target(sshd), control_dir=tmp_path, reuse=True).open()
        assert not attached.owned and attached.master_pid() == owner.master_pid()
        attached.close()
        assert owner.alive()


def test_reverse_tunnel_reaches_a_local_port(sshd, tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        local_port = listener.getsockname()[1]
        with SshMaster(_target(sshd), control_dir=tmp_path) as master:
            remote_port = master.forward_remote(local_port)
            with socket.create_connection(("127.0.0.1", remote_port), timeout=5) as client:
                conn, _ = listener.accept()
                client.sendall(b"ping")
                assert conn.recv(4) == b"ping"
                conn.close()


def test_failed_login_names_the_site(sshd, tmp_path):
    config = tmp_path / "cfg"
    config.write_text(
        sshd.ssh_config.read_text()
        + f"\nHost dead-login\n  HostName 127.0.0.1\n  Port {free_port()}\n"
    )
    master = SshMaster(SshTarget("crux", "dead-login", config), control_dir=tmp_path / "c")
    with pytest.raises(SshError, match="crux: ssh to dead-login failed"):
        master.open()
    assert not master.socket.exists()


def test_control_path_is_per_site_and_short():
    with tempfile.TemporaryDirectory(prefix="c", dir="/tmp") as short:
        folder = Path(short)
        one = control_path(SshTarget("aurora", "u@aurora"), folder)
        two = control_path(SshTarget("crux", "u@crux"), folder)
        assert one != two and one.parent == folder and one.name.startswith("aurora-")


def test_a_deep_control_dir_moves_the_socket_to_a_private_short_dir(tmp_path):
    deep, deeper = tmp_path / ("x" * 120), tmp_path / ("y" * 120)
    one = control_path(SshTarget("aurora", "h"), deep)
    assert one.parent == short_socket_dir() and len(str(one)) + 17 <= 107
    assert one == control_path(SshTarget("aurora", "h"), deep)  # reuse finds it again
    assert one != control_path(SshTarget("aurora", "h"), deeper)
    assert stat.S_IMODE(one.parent.stat().st_mode) == 0o700


def test_a_deep_control_dir_still_opens_a_master(sshd, tmp_path):
    with SshMaster(_target(sshd), control_dir=tmp_path / ("d" * 100)) as master:
        assert master.run("echo", "up").stdout.strip() == "up"
    assert not master.socket.exists()
