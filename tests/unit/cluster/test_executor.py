from __future__ import annotations

import shlex

from chia.cluster.config import Auth, Machine
from chia.cluster.executor import LocalExecutor, SshExecutor, executor_for


def test_local_runs_sh_and_feeds_stdin():
    local = LocalExecutor(Machine(ip="127.0.0.1"))
    assert local.argv("echo hi") == ["sh", "-c", "echo hi"]
    assert local.run("cat", stdin="secret").stdout == "secret"
    assert local.run("exit 3").returncode == 3


def test_ssh_argv_carries_port_key_proxy_and_options():
    machine = Machine(ip="10.0.0.2", ssh_port=2222, ssh_user="me")
    auth = Auth(
        ssh_user="ops",
        ssh_private_key="/k",
        ssh_proxy_command="ssh -W %h:%p bastion",
        ssh_options=["StrictHostKeyChecking=no"],
    )
    argv = SshExecutor(machine, auth).argv("echo 'a b'")
    assert argv[:5] == ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
    assert argv[5:7] == ["-p", "2222"] and "-i" in argv and "/k" in argv
    assert "ProxyCommand=ssh -W %h:%p bastion" in argv and "StrictHostKeyChecking=no" in argv
    assert argv[-2] == "me@10.0.0.2"  # the machine's user wins over auth's
    assert shlex.split(argv[-1]) == ["sh", "-c", "echo 'a b'"]
    copy = SshExecutor(machine, auth).copy_argv("/src", "/dst/file")
    assert copy[0] == "rsync" and copy[-1] == "me@10.0.0.2:/dst/file"


def test_executor_choice():
    auth = Auth()
    assert isinstance(executor_for(Machine(ip="127.0.0.1"), auth), LocalExecutor)
    assert isinstance(executor_for(Machine(ip="127.0.0.1", ssh=True), auth), SshExecutor)
    assert isinstance(executor_for(Machine(ip="10.9.9.9"), auth), SshExecutor)
