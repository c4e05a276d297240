"""Run a shell script on a machine: directly on this one, over ssh on another.

One small class per transport behind :class:`Executor`; both build the argv first (so a
dry run can print exactly what would run) and then run it.
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from pathlib import Path
from typing import Protocol

from chia.cluster.config import Auth, Machine

__all__ = ["Executor", "LocalExecutor", "SshExecutor", "executor_for", "ssh_base_argv"]

log = logging.getLogger(__name__)


class Executor(Protocol):
    """Runs scripts and copies files on one machine."""

    machine: Machine

    def argv(self, script: str) -> list[str]:
        """The command line that runs ``script`` with ``sh`` on the machine."""
        ...

    def run(
        self, script: str, timeout_s: float = 120.0, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``script`` (fed ``stdin``) and capture its output; never raises on exit codes."""
        ...

    def copy_argv(self, local: str, remote: str) -> list[str]:
        """The command line that copies ``local`` to ``remote`` on the machine."""
        ...


def _run(argv: list[str], timeout_s: float, stdin: str | None) -> subprocess.CompletedProcess[str]:
    log.debug("run: %s", shlex.join(argv))
    if stdin is None:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL
        )
    else:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s, input=stdin)
    log.debug("exit %d: %s", done.returncode, (done.stderr or done.stdout).strip()[-500:])
    return done


class LocalExecutor:
    """This machine: ``sh -c script``."""

    def __init__(self, machine: Machine) -> None:
        self.machine = machine

    def argv(self, script: str) -> list[str]:
        """``sh -c script``."""
        return ["sh", "-c", script]

    def run(
        self, script: str, timeout_s: float = 120.0, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``script`` here."""
        return _run(self.argv(script), timeout_s, stdin)

    def copy_argv(self, local: str, remote: str) -> list[str]:
        """``rsync -a local remote`` (the parent directory is created first)."""
        parent = str(Path(remote).parent)
        return [
            "sh",
            "-c",
            f"mkdir -p {shlex.quote(parent)} && " + shlex.join(["rsync", "-a", local, remote]),
        ]


def ssh_base_argv(machine: Machine, auth: Auth) -> list[str]:
    """``ssh`` with batch mode, the machine's port and the cluster's key and options."""
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10"]
    if machine.ssh_port:
        argv += ["-p", str(machine.ssh_port)]
    if auth.ssh_private_key:
        argv += ["-i", str(Path(auth.ssh_private_key).expanduser()), "-o", "IdentitiesOnly=yes"]
    if auth.ssh_proxy_command:
        argv += ["-o", f"ProxyCommand={auth.ssh_proxy_command}"]
    for option in auth.ssh_options:
        argv += ["-o", option]
    return argv


def _destination(machine: Machine, auth: Auth) -> str:
    user = machine.ssh_user or auth.ssh_user
    return f"{user}@{machine.ip}" if user else machine.ip


class SshExecutor:
    """Another machine, over ssh (the script is sent as one quoted ``sh -c``)."""

    def __init__(self, machine: Machine, auth: Auth) -> None:
        self.machine = machine
        self.auth = auth

    @property
    def destination(self) -> str:
        """``user@ip`` (or the bare ip)."""
        return _destination(self.machine, self.auth)

    def argv(self, script: str) -> list[str]:
        """``ssh ... user@ip 'sh -c script'``."""
        return [
            *ssh_base_argv(self.machine, self.auth),
            self.destination,
            shlex.join(["sh", "-c", script]),
        ]

    def run(
        self, script: str, timeout_s: float = 120.0, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``script`` on the machine."""
        return _run(self.argv(script), timeout_s, stdin)

    def copy_argv(self, local: str, remote: str) -> list[str]:
        """``rsync -a -e 'ssh ...' local user@ip:remote``."""
        ssh = shlex.join(ssh_base_argv(self.machine, self.auth))
        return [
            "rsync",
            "-a",
            "--rsync-path",
            f"mkdir -p {shlex.quote(str(Path(remote).parent))} && rsync",
            "-e",
            ssh,
            local,
            f"{self.destination}:{remote}",
        ]


def executor_for(machine: Machine, auth: Auth) -> Executor:
    """The executor that reaches ``machine``."""
    return SshExecutor(machine, auth) if machine.remote else LocalExecutor(machine)
