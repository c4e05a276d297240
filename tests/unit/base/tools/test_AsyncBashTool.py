from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chia.base.tools.AsyncBashTool import AsyncBashTool
from chia.base.tools.mcp_client import call_tool

from .conftest import alive

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("ray_local")]


@pytest.fixture(scope="module")
def abash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AsyncBashTool]:
    work = tmp_path_factory.mktemp("abash")
    tool = AsyncBashTool("abash", str(work), env={"GREETING": "hi"})
    yield tool
    tool.stop()


def test_fast_command_finishes_inside_run(abash: AsyncBashTool) -> None:
    out = call_tool(abash, "abash_run", {"command": "echo $GREETING; pwd; exit 4"})
    assert out["started"] and out["done"]
    assert out["exit_code"] == 4
    assert out["output"].split() == ["hi", abash.work_dir]


def test_long_job_is_polled_to_completion(abash: AsyncBashTool) -> None:
    command = "for i in 1 2 3; do echo step$i; sleep 0.7; done"
    first = call_tool(abash, "abash_run", {"command": command, "wait_seconds": 0})
    assert first["started"] is True and first["done"] is False and first["running"] is True
    second = call_tool(abash, "abash_run", {"command": "echo other"})
    assert second == {"started": False, "running": True, "done": False}
    polls = 0
    status = call_tool(abash, "abash_run_status", {"wait_seconds": 0})
    while not status["done"]:
        polls += 1
        assert polls < 50
        status = call_tool(abash, "abash_run_status", {"wait_seconds": 1})
    assert polls >= 1
    assert status["exit_code"] == 0
    assert status["output"].split() == ["step1", "step2", "step3"]
    assert status["elapsed_s"] >= 2.0


def test_stop_kills_a_running_job(tmp_path: Path) -> None:
    tool = AsyncBashTool("doomed", str(tmp_path))
    pid_file = tmp_path / "pid"
    try:
        out = call_tool(
            tool,
            "doomed_run",
            {"command": f"sleep 60 & echo $! > {pid_file}; wait", "wait_seconds": 1},
        )
        assert out["done"] is False
        pid = int(pid_file.read_text())
        assert alive(pid)
    finally:
        tool.stop()
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), "the job's process outlived its tool server"
