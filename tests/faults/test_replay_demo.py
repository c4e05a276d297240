"""`chia demo --replay` replays the newest demo run and says it matched.

The demo plays on the offline scripted policy, which makes no model call: its replay is
a re-run of the same deterministic campaign under a new run id, compared event by event
with the recording. A run dir without --replay, and --model with it, are refused.
"""

from __future__ import annotations

import subprocess


def test_demo_replay_matches_the_newest_demo_run(chia, tmp_path):
    runs = str(tmp_path)
    first = chia("demo", "--runs-dir", runs, "--run-id", "demo-r", "--no-dashboard", timeout=180)
    assert first.returncode == 0, first.stdout + first.stderr

    again = chia("demo", "--replay", "--runs-dir", runs, "--no-dashboard", timeout=180)
    output = again.stdout + again.stderr
    assert again.returncode == 0, output
    assert "replaying run demo-r" in output and "matched:" in output
    assert f"replayed run demo-r-replay-1: {tmp_path / 'demo-r-replay-1'}" in output
    assert "Traceback" not in output

    explicit = chia("demo", "--replay", str(tmp_path / "demo-r"), "--runs-dir", runs,
                    "--no-dashboard", timeout=180)  # fmt: skip
    assert explicit.returncode == 0, explicit.stdout + explicit.stderr
    assert "demo-r-replay-2" in explicit.stdout

    stray = chia("demo", str(tmp_path / "demo-r"), "--runs-dir", runs, "--no-dashboard")
    assert stray.returncode == 2 and "is for --replay" in stray.stderr
    with_model = chia("demo", "--replay", "--model", "openai:x", "--runs-dir", runs)
    assert with_model.returncode == 2 and "do not apply to --replay" in with_model.stderr
    left = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True)
    assert left.stdout == "", "processes left running: " + left.stdout
