"""The job primitives, driven directly (no server): the MCP path is in test_AsyncBashTool."""

from __future__ import annotations

import pickle
import threading
import time
from typing import Any

from chia.base.tools.AsyncJobTool import MAX_WAIT_SECONDS, AsyncJobTool


def test_start_poll_finish_and_one_job_at_a_time() -> None:
    tool = AsyncJobTool("jobs")
    release = threading.Event()
    assert tool._job_status(0) == {
        "done": False,
        "running": False,
        "error": "no job has been started",
    }
    assert tool._job_start(lambda: {"value": 1} if release.wait(10) else {}) == {
        "started": True,
        "running": True,
    }
    assert tool._job_start(lambda: {"value": 2})["started"] is False
    status = tool._job_status(0.05)
    assert status["done"] is False and status["running"] is True
    release.set()
    status = tool._job_status(5)
    assert status["done"] is True and status["value"] == 1
    assert tool._job_start(lambda: {"value": 2})["started"] is True
    assert tool._job_status(5)["value"] == 2


def test_work_that_raises_reports_an_error() -> None:
    tool = AsyncJobTool("jobs")

    def boom() -> dict[str, Any]:
        raise ValueError("no luck")

    tool._job_start(boom)
    assert tool._job_status(5) == {
        "done": True,
        "running": False,
        "elapsed_s": tool._job_status(0)["elapsed_s"],
        "error": "ValueError: no luck",
    }


def test_wait_is_capped(monkeypatch: Any) -> None:
    tool = AsyncJobTool("jobs")
    tool._job_start(lambda: {})
    waits: list[float | None] = []
    monkeypatch.setattr(tool._job_done, "wait", lambda t=None: waits.append(t) or True)
    tool._job_status(10_000)
    tool._job_status(-5)
    assert waits == [MAX_WAIT_SECONDS, 0.0]


def test_primitives_are_dropped_on_pickling_and_recreated() -> None:
    tool = AsyncJobTool("jobs")
    tool._job_start(lambda: (time.sleep(0.2), {"x": 1})[1])
    state = tool.__getstate__()
    assert "_job_lock" not in state and "_job_thread" not in state
    copy = pickle.loads(pickle.dumps(tool))
    assert copy.name == "jobs" and copy._job_thread is None
    assert copy._job_start(lambda: {"y": 2})["started"] is True
    assert copy._job_status(5)["y"] == 2
