from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chia.base.tools.BashTool import BashTool
from chia.base.tools.mcp_client import call_tool

from .conftest import alive

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("ray_local")]


@pytest.fixture(scope="module")
def bash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BashTool]:
    work = tmp_path_factory.mktemp("bash")
    tool = BashTool("bash", work_dir=str(work), timeout_seconds=2)
    yield tool
    tool.stop()


def test_exit_code_and_combined_output_in_work_dir(bash: BashTool) -> None:
    out = call_tool(bash, "bash_run_command", {"command": "pwd; echo out; echo err >&2; exit 3"})
    assert out["exit_code"] == 3
    assert not out["timed_out"]
    assert out["output"].split() == [bash.work_dir, "out", "err"]


def test_long_output_keeps_the_tail(bash: BashTool) -> None:
    out = call_tool(bash, "bash_run_command", {"command": "seq 1 20000; echo LAST"})
    text = out["output"]
    assert text.startswith("[... ") and "bytes truncated" in text
    assert text.endswith("20000\nLAST\n")
    assert len(text) < 20_100


def test_timeout_kills_the_whole_process_group(bash: BashTool, tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    command = f"sleep 60 & echo $! > {pids}; (sleep 60 & echo $! >> {pids}; wait) & wait"
    out = call_tool(bash, "bash_run_command", {"command": command})
    assert out["timed_out"] and out["exit_code"] == -9
    children = [int(p) for p in pids.read_text().split()]
    assert len(children) == 2
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in children if alive(pid)], "orphaned children survived"
