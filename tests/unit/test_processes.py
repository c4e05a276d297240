from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from chia.processes import is_running, stop_process, stop_processes


def test_stops_politely_then_by_force_within_one_shared_grace():
    polite = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    stubborn = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
            "print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert stubborn.stdout is not None and stubborn.stdout.readline() == "ready\n"
    stop_processes([polite, stubborn], grace_s=1.0)
    assert polite.returncode == -15  # SIGTERM
    assert stubborn.returncode == -9  # SIGKILL after the grace period


def test_already_exited_process_is_fine():
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    stop_process(done)
    assert done.returncode == 0


def test_is_running_counts_a_zombie_as_gone():
    child = subprocess.Popen(["sleep", "30"])
    try:
        assert is_running(child.pid)
        child.kill()
        deadline = time.monotonic() + 5
        while Path(f"/proc/{child.pid}/stat").read_text().split(") ")[1][0] != "Z":
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert not is_running(child.pid)  # killed, not yet reaped
    finally:
        child.wait()
    assert not is_running(child.pid)
