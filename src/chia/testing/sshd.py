"""A real OpenSSH server on 127.0.0.1 with a throwaway key, for launcher and relay tests.

It runs ``/usr/sbin/sshd -D`` with its own config in a temporary directory (host key,
client key, authorized_keys), on a free port, and writes an ``ssh -F`` config in which
any number of host aliases ("aurora-login", "crux-login") all reach it. Nothing in the
machine's own ssh configuration is touched.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from chia.netaddr import free_port
from chia.processes import stop_process

__all__ = ["SshServer", "sshd_server"]

SSHD = "/usr/sbin/sshd"


@dataclass(frozen=True)
class SshServer:
    """A running sshd: where it listens, the client key, and a ready ``ssh -F`` file."""

    host: str
    port: int
    user: str
    identity: Path
    ssh_config: Path
    workdir: Path

    def ssh_argv(self, alias: str) -> list[str]:
        """``ssh -F <config> <alias>``: prepend to a remote command."""
        return ["ssh", "-F", str(self.ssh_config), alias]


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
        check=True,
        capture_output=True,
    )


def _client_config(
    server_host: str, port: int, user: str, key: Path, aliases: Sequence[str]
) -> str:
    blocks = []
    for alias in aliases:
        blocks.append(
            f"Host {alias}\n"
            f"  HostName {server_host}\n"
            f"  Port {port}\n"
            f"  User {user}\n"
            f"  IdentityFile {key}\n"
            "  IdentitiesOnly yes\n"
            "  StrictHostKeyChecking no\n"
            "  UserKnownHostsFile /dev/null\n"
            "  LogLevel ERROR\n"
        )
    return "\n".join(blocks)


def _wait_listening(host: str, port: int, proc: subprocess.Popen[bytes], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited with code {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5) as sock:
                if sock.recv(4) == b"SSH-":
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on {host}:{port} within {timeout_s:g}s")


@contextlib.contextmanager
def sshd_server(
    aliases: Sequence[str] = ("site-login",), *, start_timeout_s: float = 10.0
) -> Iterator[SshServer]:
    """Run a throwaway sshd on a free loopback port for the current user.

    Args:
        aliases: Host names the generated ``ssh -F`` config maps to this server.
        start_timeout_s: How long to wait for its banner.

    Yields:
        The running server; it is stopped and its directory removed on exit.

    Raises:
        RuntimeError: If sshd is not installed or never starts.
    """
    if not Path(SSHD).is_file() or shutil.which("ssh-keygen") is None:
        raise RuntimeError("openssh-server is not installed (apt-get install -y openssh-server)")
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege-separation dir
    user = pwd.getpwuid(os.getuid()).pw_name
    with tempfile.TemporaryDirectory(prefix="chia-sshd-") as tmp:
        work = Path(tmp)
        _keygen(work / "host_key")
        _keygen(work / "id_client")
        shutil.copy(work / "id_client.pub", work / "authorized_keys")
        host, port = "127.0.0.1", free_port()
        (work / "sshd_config").write_text(
            f"Port {port}\nListenAddress {host}\nHostKey {work / 'host_key'}\n"
            f"AuthorizedKeysFile {work / 'authorized_keys'}\nPidFile {work / 'sshd.pid'}\n"
            "PubkeyAuthentication yes\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            "PermitRootLogin prohibit-password\nAllowTcpForwarding yes\n"
            "MaxSessions 64\nMaxStartups 64\nLogLevel ERROR\n"
        )
        config = work / "ssh_config"
        config.write_text(_client_config(host, port, user, work / "id_client", aliases))
        proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(work / "sshd_config")],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(work / "sshd.log").open("wb"),
        )
        try:
            _wait_listening(host, port, proc, start_timeout_s)
            yield SshServer(host, port, user, work / "id_client", config, work)
        finally:
            stop_process(proc)
