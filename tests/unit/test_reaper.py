from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from chia.processes import is_running
from chia.reaper import Reaper, start_time

# A parent that registers a detached grandchild (its own session, as `ssh -f` is) with a
# reaper, reports the grandchild's pid, then waits to be killed.
OWNER = """
import subprocess, sys, time
from pathlib import Path
from chia.reaper import Reaper
detached = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
)
reaper = Reaper().start()
marker = Path(sys.argv[1])
marker.with_suffix(".sock").write_text("")
reaper.watch(detached.pid, marker.with_suffix(".sock"))
if len(sys.argv) > 2:
    forgotten = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True
    )
    reaper.watch(forgotten.pid)
    reaper.forget(forgotten.pid)
    marker.with_suffix(".kept").write_text(str(forgotten.pid))
marker.write_text(str(detached.pid))
time.sleep(60)
"""


def _wait_for(path: Path) -> int:
    deadline = time.monotonic() + 20
    while not (path.exists() and path.read_text()):
        assert time.monotonic() < deadline, f"{path} never written"
        time.sleep(0.02)
    return int(path.read_text())


def _gone_within(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not is_running(pid)


def test_a_detached_process_is_stopped_when_its_owner_is_sigkilled(tmp_path):
    marker = tmp_path / "pid"
    owner = subprocess.Popen([sys.executable, "-c", OWNER, str(marker), "forget-one"])
    detached = _wait_for(marker)
    kept = _wait_for(marker.with_suffix(".kept"))
    try:
        assert is_running(detached)
        owner.kill()  # no handler runs; only the closed pipe tells the reaper
        owner.wait()
        assert _gone_within(detached, 10), "the detached process outlived its owner"
        deadline = time.monotonic() + 10
        while marker.with_suffix(".sock").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not marker.with_suffix(".sock").exists()  # its socket file went too
        assert is_running(kept), "a forgotten process was stopped"
    finally:
        for pid in (detached, kept):
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)


def test_closing_stops_what_is_still_registered_and_nothing_else(tmp_path):
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with Reaper() as reaper:
            reaper.watch(victim.pid)
            reaper.watch(bystander.pid)
            reaper.forget(bystander.pid)
        assert victim.wait(timeout=10) == -signal.SIGTERM
        assert bystander.poll() is None
    finally:
        for proc in (victim, bystander):
            proc.kill()
            proc.wait()


def test_start_time_tells_a_recycled_pid_apart():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    started = start_time(proc.pid)
    proc.wait()
    assert started is not None and start_time(proc.pid) is None
