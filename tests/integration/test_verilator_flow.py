"""Scenario: the Verilator example flow end to end, as a user runs it.

A scripted LLM node (a Ray task) prompts the fake OpenAI server with a VerilatorTool; the
model's tool calls go over MCP to the tool server, each builds and simulates a counter
with real Verilator on a worker with the ``verilator`` resource. The first design fails
its testbench, the fix passes, and nothing the flow started is left running.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "verilator_flow.py"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(420),
    pytest.mark.skipif(shutil.which("verilator") is None, reason="verilator not installed"),
]


def test_llm_node_fixes_a_counter_with_the_verilator_tool(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=360)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, output
    lines = [line for line in output.splitlines() if line.startswith(("attempt", "model:"))]
    assert lines == [
        "attempt 1: built=True FAIL",
        "attempt 2: built=True PASS",
        "model: The counter passes its testbench.",
    ], output
    assert "/verilator/mcp" in output
    left = _survivors(proc.pid, grace_s=15)
    if left:
        os.killpg(proc.pid, signal.SIGKILL)
    assert not left, f"the flow left processes running: {left}"


def _survivors(pgid: int, grace_s: float) -> list[str]:
    """Members of process group ``pgid`` still running after ``grace_s`` (Ray's own
    processes exit a moment after ``ray.shutdown()`` returns)."""
    deadline = time.monotonic() + grace_s
    while True:
        members = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid and fields[0] != "Z":
                    members.append(stat.parent.joinpath("cmdline").read_text(errors="replace"))
            except (OSError, IndexError):
                continue  # it exited while we looked
        if not members or time.monotonic() > deadline:
            return members
        time.sleep(0.2)
