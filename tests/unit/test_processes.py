from __future__ import annotations

import subprocess
import sys
import time

from chia.processes import stop_process, stop_processes


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
    started = time.monotonic()
    stop_processes([polite, stubborn], grace_s=1.0)
    assert time.monotonic() - started < 5
    assert polite.returncode == -15  # SIGTERM
    assert stubborn.returncode == -9  # SIGKILL after the grace period


def test_already_exited_process_is_fine():
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    stop_process(done)
    assert done.returncode == 0
