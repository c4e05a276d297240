"""``AsyncBashTool``: bash commands that may run for minutes, without blocking MCP calls.

Built on :class:`~chia.base.tools.AsyncJobTool.AsyncJobTool`: ``<name>_run`` starts the
command and waits a bounded slice; a command still running answers ``done=false`` and is
followed with ``<name>_run_status`` until ``done=true``. Fast commands finish inside the
first call.
"""

from __future__ import annotations

from typing import Any

from chia.base.tools._shell import run_shell
from chia.base.tools.AsyncJobTool import AsyncJobTool

__all__ = ["AsyncBashTool"]


class AsyncBashTool(AsyncJobTool):
    """MCP bash tool for commands that may run for minutes, built on AsyncJobTool.

    Registers ``<name>_run`` and ``<name>_run_status``. One command runs at a time per
    instance: a second ``run`` while one is in flight returns ``started=false``. On
    completion the status carries ``exit_code`` and ``output`` (combined, tail-truncated)
    as ``BashTool`` does. ``work_dir`` and ``env`` pickle normally; the job primitives are
    recreated by ``AsyncJobTool``.

    Args:
        name: The tool's name.
        work_dir: The directory commands run in (on the server's node).
        env: Variables added to each command's environment.
        task_options: Ray options placing the server (see ``ChiaTool``).
    """

    def setup(self, work_dir: str = "/", env: dict[str, str] | None = None) -> None:
        """Keep the working directory and environment; register the two tools."""
        self.work_dir = work_dir
        self.env = dict(env or {})
        self.mcp.add_tool(self.run, name=f"{self.name}_run")
        self.mcp.add_tool(self.run_status, name=f"{self.name}_run_status")

    def run(self, command: str, wait_seconds: int = 60) -> dict[str, Any]:
        """Run a bash command in the BACKGROUND, waiting up to wait_seconds (max 120).

        If it finishes in time, returns done=true with exit_code and output. If it is
        still running, returns done=false: then call the run_status tool until done=true.
        One command at a time: if one is already running this returns started=false; poll
        run_status instead of starting another.
        """
        started = self._job_start(
            lambda: run_shell(command, cwd=self.work_dir, env=self.env).as_dict()
        )
        if not started["started"]:
            return started
        return {"started": True, **self._job_status(wait_seconds)}

    def run_status(self, wait_seconds: int = 60) -> dict[str, Any]:
        """Wait up to wait_seconds (max 120) for the running command.

        Returns done=false while it runs (call again), or done=true with exit_code and
        output once it has finished.
        """
        return self._job_status(wait_seconds)
