"""The stdlib-only relay script, run as the login node would run it (system Python)."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from chia.assets import path as asset_path

SCRIPT = asset_path("relay") / "chia_relay.py"
PYTHON = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


def relay(*args: str) -> tuple[int, dict]:
    result = subprocess.run(
        [PYTHON, str(SCRIPT), *args], capture_output=True, text=True, timeout=30
    )
    return result.returncode, json.loads(result.stdout.strip().splitlines()[-1])


class _Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = f"hello via {self.path}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def backend():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def _gone(pid: int, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
            stat = Path(f"/proc/{pid}/stat").read_text()
            if stat.rpartition(")")[2].split()[0] == "Z":
                return True
        except (ProcessLookupError, FileNotFoundError):
            return True
        time.sleep(0.05)
    return False


def _free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _start(tmp_path, backend, port=0, *extra):
    return relay(
        "start",
        "--port",
        str(port),
        "--state-dir",
        str(tmp_path / "state"),
        "--bind",
        "127.0.0.1",
        "--target-port",
        str(backend),
        *extra,
    )


def test_forwards_http_then_sigterm_frees_the_port(tmp_path, backend):
    host_file = tmp_path / "relay-host"
    code, started = _start(tmp_path, backend, 0, "--host-file", str(host_file))
    assert code == 0, started
    port = started["port"]
    assert host_file.read_text() == f"{socket.gethostname()} {port}\n"
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=5) as response:
        assert response.read() == b"hello via /v1/models"
    os.kill(started["pid"], signal.SIGTERM)
    assert _gone(started["pid"])
    assert _free(port)
    assert not Path(started["log"]).read_text().count("Traceback")
    assert relay("status", "--port", "0", "--state-dir", str(tmp_path / "state"))[0] == 3


def test_a_taken_port_is_refused_naming_its_holder_and_starting_nothing(tmp_path, backend):
    state, host_file = tmp_path / "state", tmp_path / "relay-host"
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        code, refused = _start(tmp_path, backend, taken, "--host-file", str(host_file))
        assert code == 4, refused
        assert refused["error"] == "port_taken" and refused["port"] == taken
        assert refused["host"] == socket.gethostname()
        assert refused["holder"].startswith(f"pid {os.getpid()} (")  # this test holds it
        assert not host_file.exists() and list(state.glob("*.json")) == []
        assert relay("status", "--port", str(taken), "--state-dir", str(state))[0] == 3
    # The port free again, the same command starts the relay on it.
    code, started = _start(tmp_path, backend, taken)
    assert code == 0 and started["port"] == taken
    assert relay("stop", "--port", str(taken), "--state-dir", str(state))[1]["stopped"]
    assert _gone(started["pid"])


def test_start_replaces_only_its_own_earlier_copy(tmp_path, backend):
    _, first = _start(tmp_path, backend)
    _, second = _start(tmp_path, backend)
    assert second["replaced_earlier"] and _gone(first["pid"]) and second["pid"] != first["pid"]
    relay("stop", "--port", "0", "--state-dir", str(tmp_path / "state"))
    assert _gone(second["pid"])

    # A pid file naming an unrelated process (pid reuse, or a look-alike command line)
    # must never lead to a signal.
    state = str(tmp_path / "state")
    look_alike = [PYTHON, "-c", "import time; time.sleep(30)", str(SCRIPT), "serve"]
    decoy = subprocess.Popen([*look_alike, "--port", "0", "--state-dir", state])
    try:
        pid_file = tmp_path / "state" / f"relay-{socket.gethostname()}-0.json"
        pid_file.write_text(json.dumps({"pid": decoy.pid, "port": 1}))
        _, again = _start(tmp_path, backend)
        assert again["replaced_earlier"] is False
        assert decoy.poll() is None
        relay("stop", "--port", "0", "--state-dir", str(tmp_path / "state"))
        assert _gone(again["pid"])
    finally:
        decoy.kill()
        decoy.wait()


def test_uses_only_the_standard_library():
    source = SCRIPT.read_text()
    imported = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from "))
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}
