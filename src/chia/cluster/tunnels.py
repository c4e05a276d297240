"""SSH reverse tunnels for firewalled machines.

A machine that cannot open connections to the head (a firewall lets ssh in, nothing out)
still joins: from the operator's side ``ssh -N -R 127.0.0.1:<port>:<head>:<gcs port>``
makes ``127.0.0.1:<port>`` on that machine reach the head's GCS, and its workers start
with ``--address 127.0.0.1:<port>``. Limitation: Ray also opens object-manager and
raylet connections between nodes; those must be reachable (or the workers on such a
machine only run tasks whose data fits in task arguments and results passed via GCS).
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

__all__ = ["close_tunnel", "open_tunnel", "remote_free_port", "tunnel_argv"]

_FREE_PORT_SCRIPT = (
    'python3 -c \'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); '
    "print(s.getsockname()[1])'"
)


def tunnel_argv(machine: Machine, auth: Auth, remote_port: int, target: str) -> list[str]:
    """The ``ssh -N -R`` command line that makes ``127.0.0.1:remote_port`` reach ``target``."""
    destination = SshExecutor(machine, auth).destination
    return [
        *ssh_base_argv(machine, auth),
        "-N",
        "-o",
        "ExitOnForwardFailure=yes",
        "-o",
        "ServerAliveInterval=15",
        "-R",
        f"127.0.0.1:{remote_port}:{target}",
        destination,
    ]


def remote_free_port(machine: Machine, auth: Auth) -> int:
    """Ask the machine for a free loopback port (its python3); raise if it cannot say."""
    result = SshExecutor(machine, auth).run(_FREE_PORT_SCRIPT, timeout_s=30)
    text = result.stdout.strip()
    if result.returncode != 0 or not text.isdigit():
        raise ChiaError(f"{machine.label}: could not pick a free port: {result.stderr.strip()}")
    return int(text)


def _listening(executor: SshExecutor, port: int) -> bool:
    probe = (
        "python3 -c 'import socket,sys; s = socket.socket(); "
        f'sys.exit(s.connect_ex(("127.0.0.1", {port})))\''
    )
    return executor.run(probe, timeout_s=30).returncode == 0


def open_tunnel(
    machine: Machine,
    auth: Auth,
    target: str,
    log_path: Path,
    remote_port: int | None = None,
    timeout_s: float = 30.0,
) -> TunnelRecord:
    """Start a detached reverse tunnel and wait until the machine's end accepts connections.

    Args:
        machine: The firewalled machine (reached over ssh).
        auth: The cluster's ssh settings.
        target: ``host:port`` the tunnel leads to (reachable from this machine).
        log_path: Where ssh's output goes.
        remote_port: The machine's loopback port (default: a free one it reports).
        timeout_s: How long to wait for the forward.

    Raises:
        ChiaError: If ssh exits or the forward never answers.
    """
    port = remote_port or remote_free_port(machine, auth)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            tunnel_argv(machine, auth, port, target),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives `chia up`; `chia down` stops it by pid
        )
    record = TunnelRecord(machine=machine.label, remote_port=port, target=target, pid=proc.pid)
    executor = SshExecutor(machine, auth)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ChiaError(f"tunnel to {machine.label} exited: {log_path.read_text()[-500:]}")
        if _listening(executor, port):
            return record
        time.sleep(0.2)
    close_tunnel(record)
    raise ChiaError(f"tunnel to {machine.label}:{port} never answered")


def _is_our_tunnel(record: TunnelRecord) -> bool:
    try:
        cmdline = Path(f"/proc/{record.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return f"127.0.0.1:{record.remote_port}:{record.target}".encode() in cmdline


def close_tunnel(record: TunnelRecord, grace_s: float = 5.0) -> None:
    """Stop the tunnel's ssh (only if that pid still is this tunnel)."""
    if not _is_our_tunnel(record):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _is_our_tunnel(record):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(record.pid, os.WNOHANG)
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        if _is_our_tunnel(record):
            os.kill(record.pid, signal.SIGKILL)


def connect_ok(host: str, port: int) -> bool:
    """True if a TCP connection to ``host:port`` succeeds (used by tests and ``up``)."""
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=2):
        return True
    return False
