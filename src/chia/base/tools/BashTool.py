"""``BashTool``: an MCP tool that runs a shell command where the tool server runs.

Each command runs with bash in its own process group in ``work_dir``; on timeout the whole
group is killed (background children included), so nothing outlives the call. The tool
returns the exit code and the tail of the combined output.
"""

from __future__ import annotations

from typing import Any

from chia.base.tools._shell import run_shell
from chia.base.tools.ChiaTool import ChiaTool

__all__ = ["BashTool"]


class BashTool(ChiaTool):
    """MCP tool that executes bash commands on the worker (or in the container) hosting it.

    Registers ``<name>_run_command``. With ``task_options`` the server, and so every
    command, runs on a worker chosen by those options.

    Args:
        name: The tool's name.
        work_dir: The directory commands run in (on the server's node).
        timeout_seconds: Seconds before a command's process group is killed.
        task_options: Ray options placing the server (see ``ChiaTool``).
    """

    def setup(self, work_dir: str = "/", timeout_seconds: int = 120) -> None:
        """Keep the working directory and timeout; register ``<name>_run_command``."""
        self.work_dir = work_dir
        self.timeout_seconds = timeout_seconds
        self.mcp.add_tool(self.run_command, name=f"{self.name}_run_command")

    def run_command(self, command: str) -> dict[str, Any]:
        """Run a bash command and wait for it (up to the tool's timeout).

        Returns exit_code (negative if killed by a signal), output (stdout and stderr
        combined; only the tail of long output is kept) and timed_out (true if the command
        ran out of time and was killed with all of its child processes).
        """
        result = run_shell(command, cwd=self.work_dir, timeout=self.timeout_seconds)
        return result.as_dict()
