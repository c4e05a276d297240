"""A firewalled machine joins through an ssh reverse tunnel (real `ssh -R` to sshd on
127.0.0.1, with `GatewayPorts clientspecified` as the docs require): the tunnel carries
bytes, workers there dial the head through it, and `chia down` closes it."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chia.cluster.config import Auth, Machine
from chia.cluster.tunnels import close_tunnel, open_tunnel
from chia.processes import is_running
from chia.testing import free_port
from chia.testing.clusters import cluster_sandbox
from chia.testing.sshd import SshServer, sshd_server

CLUSTER = """
cluster_name: @NAME@
provider:
  head_ip: 127.0.0.1
  temp_root: @TEMP_ROOT@
  machines:
    - {name: here, ip: 127.0.0.1}
    - name: walled
      ip: 127.0.0.1
      ssh: true
      tunnel: true
      ssh_port: ${FAR_PORT}
auth:
  ssh_user: ${FAR_USER}
  ssh_private_key: ${FAR_KEY}
  ssh_options: [StrictHostKeyChecking=no, UserKnownHostsFile=/dev/null, LogLevel=ERROR]
available_node_types:
  inside: {resources: {CPU: 1, walled: 1}, num_workers: 1, compatible_ips: [walled]}
"""


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.sendall(self.request.recv(64).upper())


@contextlib.contextmanager
def _gateway_sshd(base: SshServer) -> Iterator[int]:
    """A second sshd with the helper's keys, on a free port, allowing GatewayPorts."""
    port = free_port()
    config = (base.workdir / "sshd_config").read_text()
    config = re.sub(r"^Port \d+$", f"Port {port}", config, flags=re.M)
    config = config.replace("sshd.pid", "sshd-gw.pid") + "GatewayPorts clientspecified\n"
    path = base.workdir / "sshd_gateway_config"
    path.write_text(config)
    proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", str(path)])
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)):
                break
            time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.slow
def test_reverse_tunnel(tmp_path, monkeypatch):
    with sshd_server() as base, _gateway_sshd(base) as port:
        sshd = base
        machine = Machine(name="walled", ip="127.0.0.1", ssh=True, ssh_port=port)
        auth = Auth(
            ssh_user=sshd.user,
            ssh_private_key=str(sshd.identity),
            ssh_options=["StrictHostKeyChecking=no", "UserKnownHostsFile=/dev/null"],
        )
        with socketserver.TCPServer(("127.0.0.1", 0), _Echo) as echo:
            threading.Thread(target=echo.serve_forever, daemon=True).start()
            target = f"127.0.0.1:{echo.server_address[1]}"
            tunnel = open_tunnel(machine, auth, target, tmp_path / "tunnel.log")
            assert tunnel.remote_port != echo.server_address[1]
            end = (tunnel.bind_host, tunnel.remote_port)
            with socket.create_connection(end, timeout=5) as conn:
                conn.sendall(b"through the tunnel")
                assert conn.recv(64) == b"THROUGH THE TUNNEL"
            close_tunnel(tunnel)
            assert not is_running(tunnel.pid)
            echo.shutdown()

        monkeypatch.setenv("FAR_PORT", str(port))
        monkeypatch.setenv("FAR_USER", sshd.user)
        monkeypatch.setenv("FAR_KEY", str(sshd.identity))
        with cluster_sandbox(tmp_path) as box:
            path = box.write(CLUSTER)
            up = box.chia("up", str(path), "-y")
            try:
                assert up.returncode == 0, up.stdout + up.stderr
                assert "walled: reverse tunnel " in up.stdout
                state = json.loads((box.state_dir / f"{box.name}.json").read_text())
                (tunnel_record,) = state["tunnels"]
                assert tunnel_record["target"] == state["head_address"]
                worker = state["nodes"]["inside-1"]
                cmdline = Path(f"/proc/{worker['pid']}/cmdline").read_bytes().split(b"\0")
                address = cmdline[cmdline.index(b"--address") + 1].decode()
                assert address == f"{tunnel_record['bind_host']}:{tunnel_record['remote_port']}"
                nodes = box.chia("list", "nodes")
                assert nodes.stdout.count("ALIVE") == 2, nodes.stdout + nodes.stderr
            finally:
                down = box.chia("down", str(path))
            assert down.returncode == 0, down.stderr
            assert not is_running(tunnel_record["pid"])
            assert box.processes() == {}
