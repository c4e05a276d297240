"""SSH reverse tunnels for firewalled machines.

A machine that cannot open connections to the head (a firewall lets ssh in, nothing out)
still joins: from the operator's side ``ssh -N -R <ip>:<port>:<head>:<gcs port>`` makes
``<ip>:<port>`` on that machine reach the head's GCS, and its workers start with
``--address <ip>:<port>``. ``<ip>`` is the address Ray detects on that machine: Ray
rewrites a loopback ``--address`` to it, so the tunnel cannot listen on loopback only,
and the machine's sshd needs ``GatewayPorts clientspecified``.

Limitations: Ray also opens object-manager and raylet connections between nodes; those
must be reachable both ways, so large objects and actor calls into such a machine need
the same ports open (or more tunnels).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from chia.cluster.config import Auth, Machine
from chia.cluster.executor import SshExecutor, ssh_base_argv
from chia.cluster.state import TunnelRecord
from chia.errors import ChiaError

__all__ = [
    "close_tunnel",
    "connect_ok",
    "local_end",
    "open_tunnel",
    "remote_free_port",
    "tunnel_argv",
]

# Ray's own rule for a node's address: the source address of a route to the outside
# (a UDP connect sends nothing); loopback when there is no route.
_FREE_PORT_SCRIPT = """python3 - <<'EOF'
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.connect(("8.8.8.8", 80))
    ip = u.getsockname()[0]
except OSError:
    ip = "127.0.0.1"
s = socket.socket()
s.bind((ip, 0))
print(ip, s.getsockname()[1])
EOF"""


def tunnel_argv(
    machine: Machine, auth: Auth, remote_port: int, target: str, bind_host: str = "127.0.0.1"
) -> list[str]:
    """The ``ssh -N -R`` command line that makes ``bind_host:remote_port`` reach ``target``."""
    destination = SshExecutor(machine, auth).destination
    return [
        *ssh_base_argv(machine, auth),
        "-N",
        "-o",
        "ExitOnForwardFailure=yes",
        "-o",
        "ServerAliveInterval=15",
        "-R",
        f"{bind_host}:{remote_port}:{target}",
        destination,
    ]


def remote_free_port(machine: Machine, auth: Auth) -> tuple[str, int]:
    """Ask the machine (its python3) for Ray's address there and a free port on it."""
    result = SshExecutor(machine, auth).run(_FREE_PORT_SCRIPT, timeout_s=30)
    parts = result.stdout.split()
    if result.returncode != 0 or len(parts) != 2 or not parts[1].isdigit():
        raise ChiaError(f"{machine.label}: could not pick a free port: {result.stderr.strip()}")
    return parts[0], int(parts[1])


def local_end(record: TunnelRecord) -> str:
    """``host:port`` of the tunnel's end on the machine."""
    return f"{record.bind_host}:{record.remote_port}"


def _listening(executor: SshExecutor, host: str, port: int) -> bool:
    probe = (
        "python3 -c 'import socket,sys; s = socket.socket(); "
        f'sys.exit(s.connect_ex(("{host}", {port})))\''
    )
    return executor.run(probe, timeout_s=30).returncode == 0


def open_tunnel(
    machine: Machine,
    auth: Auth,
    target: str,
    log_path: Path,
    remote_end: tuple[str, int] | None = None,
    timeout_s: float = 30.0,
) -> TunnelRecord:
    """Start a detached reverse tunnel and wait until the machine's end accepts connections.

    Args:
        machine: The firewalled machine (reached over ssh).
        auth: The cluster's ssh settings.
        target: ``host:port`` the tunnel leads to (reachable from this machine).
        log_path: Where ssh's output goes.
        remote_end: ``(host, port)`` the machine listens on (default: Ray's address there
            and a free port it reports).
        timeout_s: How long to wait for the forward.

    Raises:
        ChiaError: If ssh exits or the forward never answers.
    """
    bind_host, port = remote_end or remote_free_port(machine, auth)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            tunnel_argv(machine, auth, port, target, bind_host),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives `chia up`; `chia down` stops it by pid
        )
    record = TunnelRecord(
        machine=machine.label, remote_port=port, target=target, pid=proc.pid, bind_host=bind_host
    )
    executor = SshExecutor(machine, auth)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ChiaError(f"tunnel to {machine.label} exited: {log_path.read_text()[-500:]}")
        if _listening(executor, bind_host, port):
            return record
        time.sleep(0.2)
    close_tunnel(record)
    raise ChiaError(f"tunnel to {machine.label}:{port} never answered")


def _is_our_tunnel(record: TunnelRecord) -> bool:
    try:
        cmdline = Path(f"/proc/{record.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"{record.bind_host}:{record.remote_port}:{record.target}".encode() in cmdline


def close_tunnel(record: TunnelRecord, grace_s: float = 5.0) -> None:
    """Stop the tunnel's ssh (only if that pid still is this tunnel)."""
    if not _is_our_tunnel(record):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _is_our_tunnel(record):
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        if _is_our_tunnel(record):
            os.kill(record.pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):  # reap it when we started it ourselves
        os.waitpid(record.pid, 0)


def connect_ok(host: str, port: int) -> bool:
    """True if a TCP connection to ``host:port`` succeeds (used by tests and ``up``)."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2):
        return True
    return False
