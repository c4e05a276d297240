"""Deploy and drive the LLM relay on a site's login node, over its ControlMaster.

The relay script (``relay/chia_relay.py``, standard library only) is copied to the login
node as a file with rsync, never piped over stdin, and run with the site's system Python.
``start`` also opens the reverse tunnel it forwards to: a free port on the login node's
loopback that leads back to the laptop's model endpoint. The tunnel lives on the
ControlMaster, so ``start`` needs the master that ``chia dashboard --system`` holds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sh

from chia.assets import path as asset_path
from chia.dashboard.ssh import SshError, SshMaster
from chia.errors import ChiaUsageError

__all__ = ["PORT_TAKEN", "RelaySite", "relay_command", "start_relay"]

SCRIPT_NAME = "chia_relay.py"
#: The relay script's exit code when its configured port is held by another process.
PORT_TAKEN = 4


@dataclass(frozen=True)
class RelaySite:
    """Where a site's relay lives on its login node.

    Attributes:
        site: The site name.
        run_root: The site's run root; the relay's files go to ``<run_root>/.chia-relay``.
        python: The login node's Python (standard library suffices).
        port: The configured relay port (0: a free one).
        host_file: Where the relay writes ``<host> <port>`` for compute nodes, if anywhere.
    """

    site: str
    run_root: str
    python: str = "python3"
    port: int = 0
    host_file: str | None = None

    @property
    def state_dir(self) -> str:
        """Pid files, logs and the deployed script."""
        return f"{self.run_root.rstrip('/')}/.chia-relay"

    @property
    def script(self) -> str:
        """The deployed script's path on the login node."""
        return f"{self.state_dir}/{SCRIPT_NAME}"


def _json_result(master: SshMaster, argv: list[str]) -> dict[str, Any]:
    result = master.run(*argv, check=False)
    lines = result.stdout.strip().splitlines()
    try:
        doc = json.loads(lines[-1]) if lines else None
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        raise SshError(
            f"{master.target.site}: relay `{argv[2]}` failed (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()}"
        )
    doc["exit_code"] = result.returncode
    return doc


def deploy(master: SshMaster, relay: RelaySite) -> None:
    """Copy the relay script to the login node (as a file, with rsync over the master)."""
    master.run("mkdir", "-p", relay.state_dir)
    local = asset_path("relay") / SCRIPT_NAME
    try:
        sh.rsync("-a", "-e", master.rsync_rsh(), str(local), f"{master.target.host}:{relay.script}")
    except sh.ErrorReturnCode as exc:
        raise SshError(
            f"{master.target.site}: copying the relay failed: {exc.stderr.decode().strip()}"
        ) from None


def start_relay(
    master: SshMaster, relay: RelaySite, target_port: int, target_host: str = "127.0.0.1"
) -> dict[str, Any]:
    """Open the reverse tunnel, deploy the script and (re)start the relay.

    Args:
        master: The site's live ControlMaster (owned by ``chia dashboard --system``).
        relay: Where the relay lives.
        target_port: The laptop's model endpoint port.
        target_host: The laptop-side host of that endpoint.

    Returns:
        The relay's record: ``pid``, ``host``, ``port``, ``tunnel_port``...

    Raises:
        ChiaUsageError: If another process holds the relay's port on the login node
            (naming the port, the site and what to do); the tunnel is closed again.
        SshError: If the relay could not be deployed or did not start.
    """
    tunnel = master.forward_remote(target_port, target_host)
    try:
        deploy(master, relay)
        argv = [relay.python, relay.script, "start", "--port", str(relay.port)]
        argv += ["--state-dir", relay.state_dir, "--target-port", str(tunnel)]
        if relay.host_file:
            argv += ["--host-file", relay.host_file]
        doc = _json_result(master, argv)
        if doc["exit_code"] == PORT_TAKEN:
            raise ChiaUsageError(_port_taken(relay, doc))
        if doc["exit_code"] != 0:
            raise SshError(f"{relay.site}: the relay did not start: {doc.get('tail', doc)}")
    except BaseException:
        master.cancel_remote(target_port, target_host)  # leave nothing behind
        raise
    doc["tunnel_port"] = tunnel
    return doc


def _port_taken(relay: RelaySite, doc: dict[str, Any]) -> str:
    """The one-line refusal: which port, where, held by whom, and what to do."""
    holder = f" by {doc['holder']}" if doc.get("holder") else " by another process"
    return (
        f"site {relay.site}: relay port {doc.get('port', relay.port)} on login node "
        f"{doc.get('host', '?')} is already taken{holder}; nothing was started. Stop that "
        "process, or choose another port: `chia relay start --port N` (0: any free port) "
        "or the profile's relay_port"
    )


def relay_command(master: SshMaster, relay: RelaySite, command: str) -> dict[str, Any]:
    """Run ``stop`` or ``status`` of the deployed relay; its JSON record plus exit code."""
    argv = [relay.python, relay.script, command, "--port", str(relay.port)]
    return _json_result(master, [*argv, "--state-dir", relay.state_dir])
