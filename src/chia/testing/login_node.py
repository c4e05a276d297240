"""A site's login node in its namespace: a real sshd under the login's own host name.

An HPC login node has a name (``uan-0004``) that its compute nodes resolve, and an
sshd the laptop logs in to. Here each login namespace runs ``/usr/sbin/sshd`` in its own
UTS namespace whose host name is ``<site>-login``, so everything started over ssh on it
(the relay, which writes ``<hostname> <port>`` to its host file) sees that name; the
site's compute namespace resolves the name to the login's address on their link through
``/etc/netns/<namespace>/hosts`` (which ``ip netns exec`` mounts over ``/etc/hosts``).

:func:`start_login_sshd` starts them and returns an ``ssh -F`` config in which the alias
``<site>-login`` reaches each, from the laptop namespace, with a throwaway key.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chia.testing.netns import Topology
from chia.testing.netprobe import probe_argv

__all__ = ["SSH_PORT", "LoginSsh", "start_login_sshd"]

SSHD = "/usr/sbin/sshd"
SSH_PORT = 22


@dataclass(frozen=True)
class LoginSsh:
    """The logins' sshds: the client config for the laptop, and each server's process."""

    ssh_config: Path
    identity: Path
    servers: dict[str, subprocess.Popen[bytes]]
    logs: dict[str, Path]

    def alias(self, site: str) -> str:
        """The ssh alias of ``site``'s login (also its host name)."""
        return f"{site}-login"


def _keygen(path: Path) -> None:
    if not path.exists():
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
            check=True,
            capture_output=True,
        )


def _server_config(work: Path, site: str, address: str) -> Path:
    conf = work / f"sshd-{site}.conf"
    conf.write_text(
        f"Port {SSH_PORT}\nListenAddress {address}\nHostKey {work / 'host_key'}\n"
        f"AuthorizedKeysFile {work / 'authorized_keys'}\nPidFile {work / f'sshd-{site}.pid'}\n"
        "PubkeyAuthentication yes\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
        "PermitRootLogin prohibit-password\nAllowTcpForwarding yes\n"
        "MaxSessions 64\nMaxStartups 64\nLogLevel ERROR\n"
    )
    return conf


def _client_block(alias: str, address: str, key: Path) -> str:
    return (
        f"Host {alias}\n  HostName {address}\n  Port {SSH_PORT}\n  User root\n"
        f"  IdentityFile {key}\n  IdentitiesOnly yes\n  StrictHostKeyChecking no\n"
        "  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n  ConnectTimeout 10\n"
    )


def start_login_sshd(
    topo: Topology, sites: Sequence[str] | None = None, *, timeout_s: float = 15.0
) -> LoginSsh:
    """Start sshd in each site's login namespace, named ``<site>-login``; name it for compute.

    Args:
        topo: The open topology (the servers are tracked and stopped with it).
        sites: The sites (default: all of the topology's).
        timeout_s: How long to wait for each server to answer from the laptop.

    Raises:
        RuntimeError: If openssh-server is missing, or a server exits or never listens.
    """
    if not Path(SSHD).is_file():
        raise RuntimeError("openssh-server is not installed (bash scripts/system-deps.sh)")
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege-separation directory
    work = topo.workdir / "login-ssh"
    work.mkdir(parents=True, exist_ok=True)
    _keygen(work / "host_key")
    _keygen(work / "id_client")
    (work / "authorized_keys").write_text((work / "id_client.pub").read_text())
    blocks, servers, logs = [], {}, {}
    for site in sites or topo.sites:
        login, alias = f"{site}-login", f"{site}-login"
        address = topo.address(login, "laptop")
        conf = _server_config(work, site, address)
        logs[site] = work / f"sshd-{site}.log"
        # A UTS namespace of its own: the login's host name, for sshd and its sessions.
        named = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', alias]
        servers[site] = topo.popen(login, *named, SSHD, "-D", "-e", "-f", str(conf), log=logs[site])
        topo.name_host(f"{site}-compute", alias, topo.address(login, f"{site}-compute"))
        blocks.append(_client_block(alias, address, work / "id_client"))
        _wait_listening(topo, address, servers[site], logs[site], timeout_s)
    config = work / "ssh_config"
    config.write_text("\n".join(blocks))
    return LoginSsh(config, work / "id_client", servers, logs)


def _wait_listening(
    topo: Topology, address: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd on {address} exited {proc.returncode}: {log.read_text()}")
        if topo.run("laptop", *probe_argv("direct", address, SSH_PORT)).returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError(f"sshd on {address} never listened: {log.read_text()}")
