"""`chia demo --dashboard` ends by serving the run's dashboard until Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

CHIA = str(Path(sys.executable).parent / "chia")


def test_demo_serves_its_dashboard_until_ctrl_c(tmp_path):
    out = tmp_path / "demo.out"
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [
                CHIA,
                "demo",
                "--runs-dir",
                str(tmp_path / "runs"),
                "--run-id",
                "demo-d",
                "--dashboard",
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 120
        url = None
        while time.monotonic() < deadline and proc.poll() is None:
            match = re.search(r"dashboard: (http://127\.0\.0\.1:\d+/)", out.read_text())
            if match:
                url = match.group(1)
                break
            time.sleep(0.2)
        assert url, out.read_text()
        with urllib.request.urlopen(url + "api/status", timeout=10) as response:
            status = json.load(response)
        assert set(status["sites"]) == {"aurora", "crux"}
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
    assert code == 0, out.read_text()
    assert "counter = 10" in out.read_text()
