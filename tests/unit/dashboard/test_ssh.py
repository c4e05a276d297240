from __future__ import annotations

import socket

import pytest

from chia.dashboard.ssh import SshError, SshMaster, SshTarget, control_path
from chia.processes import is_running
from chia.testing.services import free_port


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


def test_control_path_is_per_site_and_short(tmp_path):
    one = control_path(SshTarget("aurora", "u@aurora"), tmp_path)
    two = control_path(SshTarget("crux", "u@crux"), tmp_path)
    assert one != two and one.parent == tmp_path and one.name.startswith("aurora-")
    with pytest.raises(SshError, match="too long"):
        control_path(SshTarget("aurora", "h"), tmp_path / ("x" * 120))
