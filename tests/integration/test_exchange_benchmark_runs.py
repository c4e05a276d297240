"""The exchange benchmark runs end to end on a tiny budget and prints its verdict line.

Not a timed test: it only guards the benchmark against rot (its agents, drain and table).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "exchange_roundtrip.py"


def test_local_pair_runs_and_reports_overhead():
    args = ["--only", "local", "--n", "20", "--rounds", "2", "--inflight", "4", "--per-worker", "3"]
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rows = {
        line.split("  ")[0].strip()
        for line in done.stdout.splitlines()
        if re.search(r"\blocal\b\s+[\d.]+\s+[\d.]+\s+\d+$", line)
    }
    assert rows == {"academy action", "academy (envelope)", "chia receive", "chia durable"}
    for path, baseline in (
        ("chia receive", "academy \\(envelope\\)"),
        ("chia durable", "chia receive"),
    ):
        verdict = rf"local\s+{path}\s+vs {baseline}\s+p50\s+[+-][\d.]+%.*in flight\s+[+-][\d.]+%"
        assert re.search(verdict, done.stdout), done.stdout


def test_unknown_exchange_is_refused():
    done = subprocess.run(
        [sys.executable, str(BENCHMARK), "--only", "carrier-pigeon"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "carrier-pigeon" in done.stderr
