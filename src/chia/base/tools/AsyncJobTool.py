"""``AsyncJobTool``: start a long job in the background, then long-poll it in short slices.

A single MCP call that blocks for minutes holds the streamable-HTTP connection open with
no traffic; that transport can lose the response and strand the agent. So a ``start``
call only kicks the work off in a daemon thread, and a ``status`` call waits at most a
bounded slice (<= ``MAX_WAIT_SECONDS``) before answering ``done=false``; the caller polls
until ``done=true``.

Job states, as ``status`` reports them:

* no job yet: ``{"done": false, "running": false, "error": "no job has been started"}``;
* running: ``{"done": false, "running": true, "elapsed_s": ...}`` (poll again);
* finished: ``{"done": true, "running": false, "elapsed_s": ..., **result}``, where
  ``result`` is the dict the work returned, or ``{"error": "..."}`` if it raised.

The normal path is start -> (status: running)* -> status: finished. One job runs at a
time per instance; a start while one runs returns ``{"started": false, "running": true}``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from chia.base.tools.ChiaTool import ChiaTool

__all__ = ["MAX_WAIT_SECONDS", "AsyncJobTool"]

#: The longest a single status call waits before answering.
MAX_WAIT_SECONDS = 120

_JOB_FIELDS = ("_job_lock", "_job_done", "_job_thread", "_job_result", "_job_started_at")


class AsyncJobTool(ChiaTool):
    """Base for MCP tools that run a long job in the background, then poll for it.

    Subclasses register their own start/status tools, delegating to :meth:`_job_start`
    and :meth:`_job_status`::

        class BuildTool(AsyncJobTool):
            def __init__(self, name, task_options=None):
                super().__init__(name, task_options=task_options)
                self.mcp.add_tool(self.build, name=f"{name}_build")
                self.mcp.add_tool(self.build_status, name=f"{name}_build_status")
                super().__post_init__()

            def build(self, targets: list[str] | None = None) -> dict:
                \"\"\"Start the build.\"\"\"
                return self._job_start(lambda: do_build(targets))

            def build_status(self, wait_seconds: int = 60) -> dict:
                \"\"\"Wait up to wait_seconds for the build; done=true when finished.\"\"\"
                return self._job_status(wait_seconds)

    The threading primitives do not pickle, and the tool object is pickled to its server
    actor (and to LLM workers), so they are dropped on pickling and recreated.

    Args:
        name: The tool's name.
        task_options: Ray options placing the server (see ``ChiaTool``).
        logging_level: Log level in the server actor.
    """

    def __init__(
        self,
        name: str,
        task_options: dict[str, Any] | None = None,
        logging_level: int = logging.DEBUG,
    ) -> None:
        super().__init__(name, task_options=task_options, logging_level=logging_level)
        self._init_job_state()

    def _init_job_state(self) -> None:
        self._job_lock = threading.Lock()
        self._job_done = threading.Event()
        self._job_thread: threading.Thread | None = None
        self._job_result: dict[str, Any] | None = None
        self._job_started_at: float | None = None

    def _job_start(self, work: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """Start ``work`` in a daemon thread unless a job is running.

        Args:
            work: Returns a dict; its keys are spliced into the finished status.

        Returns:
            ``{"started": true, "running": true}``, or ``{"started": false,
            "running": true}`` if a job was already running.
        """
        with self._job_lock:
            if self._job_thread is not None and not self._job_done.is_set():
                return {"started": False, "running": True, "done": False}
            self._job_done = threading.Event()
            self._job_result = None
            self._job_started_at = time.monotonic()
            done = self._job_done
            self._job_thread = threading.Thread(
                target=self._job_run, args=(work, done), name=f"{self.name}-job", daemon=True
            )
            self._job_thread.start()
        return {"started": True, "running": True}

    def _job_run(self, work: Callable[[], dict[str, Any]], done: threading.Event) -> None:
        try:
            result = dict(work())
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        self._job_result = result
        done.set()

    def _job_status(self, wait_seconds: float = 60) -> dict[str, Any]:
        """Wait up to ``wait_seconds`` (capped at ``MAX_WAIT_SECONDS``) for the job.

        Returns:
            The job's state (see the module docstring).
        """
        if self._job_thread is None or self._job_started_at is None:
            return {"done": False, "running": False, "error": "no job has been started"}
        done = self._job_done
        done.wait(max(0.0, min(float(wait_seconds), MAX_WAIT_SECONDS)))
        elapsed = round(time.monotonic() - self._job_started_at, 3)
        if not done.is_set():
            return {"done": False, "running": True, "elapsed_s": elapsed}
        return {"done": True, "running": False, "elapsed_s": elapsed, **(self._job_result or {})}

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        for field in _JOB_FIELDS:
            state.pop(field, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_job_state()
