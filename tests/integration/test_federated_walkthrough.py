"""docs/federated-walkthrough.md, every command, on this machine.

The two HPC login nodes are one real sshd on 127.0.0.1 under two aliases; the "compute
nodes" are local `chia spawn-site` processes whose profiles put each site's run root in
its own directory; the laptop's model endpoint is a small local HTTP server.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from chia.testing import free_port
from chia.testing.processes import background_command
from chia.testing.sshd import sshd_server

CHIA = str(Path(sys.executable).parent / "chia")
RUN = "fed-walk"


class _Model(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"data": [{"id": "laptop-model"}]}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def model_endpoint():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Model)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _profile(tmp_path: Path, site: str) -> tuple[str, Path]:
    root = tmp_path / f"{site}-fs" / "runs"
    profile = {
        "name": site,
        "remote_host": f"{site}-login",
        "run_root": str(root),
        "python": "/usr/bin/python3",
        "launcher": {"kind": "local"},
        "relay_port": free_port(),
        "relay_host_file": str(root / f"relay-host-{site}"),
        "exchange": {"kind": "http"},
    }
    path = tmp_path / f"{site}.json"
    path.write_text(json.dumps(profile))
    return str(path), root


def _chia(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([CHIA, *args], capture_output=True, text=True, env=env, timeout=timeout)


@pytest.mark.slow
def test_four_terminal_walkthrough(tmp_path, ssh_control_dir, model_endpoint):
    aurora, aurora_root = _profile(tmp_path, "aurora")
    crux, _ = _profile(tmp_path, "crux")
    with sshd_server(["aurora-login", "crux-login"]) as sshd:
        env = {
            **os.environ,
            "CHIA_SSH_CONFIG": str(sshd.ssh_config),
            "CHIA_SSH_CONTROL_DIR": str(ssh_control_dir),
        }
        # Step 0: an exchange every site can reach.
        with background_command(
            [CHIA, "exchange", "serve", "--port", "0"], r"(http://127\.0\.0\.1:\d+)", env=env
        ) as exchange:
            url = exchange.match.group(1)
            # Terminal 1 (laptop): dashboard over one ControlMaster per site, then the relay.
            dash_argv = [CHIA, "dashboard", RUN, "--system", f"{aurora},{crux}", "--port", "0"]
            dash_argv += ["--mirror-dir", str(tmp_path / "mirror"), "--interval-s", "0.5"]
            with background_command(
                dash_argv, r"dashboard: (http://127\.0\.0\.1:\d+/)", env=env
            ) as dashboard:
                assert "[aurora] waiting for" in dashboard.output
                started = _chia(
                    "relay",
                    "start",
                    "--system",
                    aurora,
                    "--target-port",
                    str(model_endpoint),
                    env=env,
                )
                assert started.returncode == 0, started.stdout + started.stderr
                assert "relay aurora:" in started.stdout
                host, port = (aurora_root / "relay-host-aurora").read_text().split()
                assert host == socket.gethostname()
                # A compute node reads the host file and calls the model through the relay.
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models") as reply:
                    assert json.load(reply)["data"][0]["id"] == "laptop-model"
                status = _chia("relay", "status", "--system", aurora, env=env)
                assert status.returncode == 0 and "running" in status.stdout

                # Terminals 2 and 3 (a compute node of each site).
                site_argv = ["spawn-site", "--campaign", "federated-chat", "--run-id", RUN]
                site_argv += ["--exchange", "http", "--exchange-url", url, "--no-bootstrap"]
                with (
                    background_command(
                        [CHIA, *site_argv, "--system", aurora, "--agents", "agent-aurora"],
                        "waiting for peers",
                        env=env,
                    ) as site_a,
                    background_command(
                        [CHIA, *site_argv, "--system", crux, "--agents", "agent-crux"],
                        "waiting for peers",
                        env=env,
                    ) as site_c,
                ):
                    # Terminal 4 (laptop): the kickoff, once.
                    kickoff = _chia(
                        "bootstrap",
                        "--run-id",
                        RUN,
                        "--campaign",
                        "federated-chat",
                        "--exchange",
                        "http",
                        "--exchange-url",
                        url,
                        env=env,
                    )
                    assert kickoff.returncode == 0, kickoff.stderr
                    assert "sent kickoff" in kickoff.stdout
                    assert site_a.proc.wait(timeout=60) == 0, site_a.output
                    assert site_c.proc.wait(timeout=60) == 0, site_c.output
                for landmark in ("registered on the http exchange", "peers up", "running"):
                    assert landmark in site_a.output and landmark in site_c.output
                assert "first message from campaign (kickoff)" in site_a.output

                api = dashboard.match.group(1)
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    events = json.load(urllib.request.urlopen(api + "api/events"))["events"]
                    kinds = [(e["site"], e["kind"]) for e in events]
                    if ("crux", "site_finished") in kinds and ("aurora", "site_finished") in kinds:
                        break
                    time.sleep(0.2)
                assert ("aurora", "result_submitted") in kinds
                assert ("crux", "message_received") in kinds

                stopped = _chia("relay", "stop", "--system", aurora, env=env)
                assert stopped.returncode == 0 and "stopped" in stopped.stdout
                assert _chia("relay", "status", "--system", aurora, env=env).returncode == 3
                assert dashboard.interrupt() == 0
        assert list(ssh_control_dir.iterdir()) == []


def test_a_peer_that_never_appears(tmp_path):
    aurora, _ = _profile(tmp_path, "aurora")
    with background_command(
        [CHIA, "exchange", "serve", "--port", "0"], r"(http://127\.0\.0\.1:\d+)"
    ) as exchange:
        alone = _chia(
            "spawn-site",
            "--system",
            aurora,
            "--campaign",
            "federated-chat",
            "--run-id",
            RUN,
            "--agents",
            "agent-aurora",
            "--exchange",
            "http",
            "--exchange-url",
            exchange.match.group(1),
            "--no-bootstrap",
            "--startup-timeout-s",
            "2",
            env=dict(os.environ),
        )
    assert alone.returncode == 2, alone.stdout + alone.stderr
    assert "did not answer a ping within 2s: agent-crux" in alone.stdout
    assert "not registered on the exchange" in alone.stdout
