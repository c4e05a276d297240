"""`chia demo` runs the two-site campaign end to end and cleans up after itself."""

from __future__ import annotations

import subprocess

import pytest


@pytest.mark.parametrize("exchange", [None, "http"])
def test_demo_runs_and_reports(chia, tmp_path, exchange):
    flags = ["--exchange", exchange] if exchange else []
    result = chia("demo", "--runs-dir", str(tmp_path), "--run-id", "demo-t", *flags, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"exchange: {exchange or 'push'}, self-hosted on " in result.stdout
    assert ("ws://127.0.0.1:" in result.stdout) == (exchange is None)  # push is the default
    assert "counter = 10" in result.stdout
    assert "aurora:" in result.stdout and "crux:" in result.stdout
    assert str(tmp_path / "demo-t") in result.stdout
    left = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert left.stdout == "", "processes left running: " + left.stdout
