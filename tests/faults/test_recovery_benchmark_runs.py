"""The recovery benchmark runs end to end on a tiny budget and prints its table and verdict.

Not a timed test: it only guards the benchmark against rot (its sites, kills, pings and
table, and that it leaves no process behind); the figures themselves are not asserted.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from chia.testing.clusters import processes_under

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "recovery.py"
ROW = r"\s+{launcher}\s+{runs}\s+[\d.]+\s+[\d.]+\s+{target}\s+{verdict}$"


def test_one_local_kill_is_measured_next_to_the_floor():
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--local-kills", "1", "--ray-kills", "0"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    floor = ROW.format(launcher="local", runs=1, target="-", verdict="-")
    chia = ROW.format(launcher="local", runs=1, target=r"<= 2 s", verdict="(ok|OVER TARGET)")
    assert [line for line in lines if re.match(r"floor: cold start -> ping" + floor, line)]
    assert [line for line in lines if re.match(r"chia: SIGKILL host -> ping" + chia, line)]
    assert not [line for line in lines if " ray " in line], done.stdout  # --ray-kills 0
    verdict = r"verdict \(slowest recovery against the target\): local max [\d.]+ s vs <= 2 s: "
    assert re.search(verdict + "(ok|OVER TARGET)$", done.stdout, re.M), done.stdout
    # Its sites and their hosts all ran under its temp dir: none is left.
    assert processes_under("/chia-recovery-") == {}


@pytest.mark.slow
def test_one_ray_kill_is_measured_next_to_rays_own_restart():
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--local-kills", "1", "--ray-kills", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    chia = ROW.format(launcher="ray", runs=1, target=r"<= 5 s", verdict="(ok|OVER TARGET)")
    peer = ROW.format(launcher="ray", runs=1, target="-", verdict="-")
    assert [line for line in lines if re.match(r"chia: SIGKILL actor worker -> ping" + chia, line)]
    assert [line for line in lines if re.match(r"peer: ray actor restart -> call" + peer, line)]
    assert re.search(r"; ray max [\d.]+ s vs <= 5 s: (ok|OVER TARGET)$", done.stdout, re.M)
    assert "chia down left" not in done.stderr  # the cluster went down with nothing left
    assert processes_under("/chia-recovery-") == {}


def test_a_budget_of_no_kills_is_refused():
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--local-kills", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--local-kills" in done.stderr
