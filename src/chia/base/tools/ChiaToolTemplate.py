"""``ChiaToolTemplate``: a minimal, working ChiaTool to copy when writing a new one.

It shows the three things a tool needs: state set in ``setup``, tools registered with
``self.mcp.add_tool(method, name=f"{self.name}_...")``, and a docstring on every tool
method (the description the model sees). Copy it, rename it, replace ``describe``.
"""

from __future__ import annotations

import os
import platform
from typing import Any

from chia.base.tools.ChiaTool import ChiaTool

__all__ = ["ChiaToolTemplate"]


class ChiaToolTemplate(ChiaTool):
    """A starting point for new tools: registers ``<name>_describe``.

    Args:
        name: The tool's name.
        *args: Forwarded to :meth:`setup`.
        task_options: Ray options placing the server (see ``ChiaTool``).
        logging_level: Log level in the server actor.
        **kwargs: Forwarded to :meth:`setup`.
    """

    def setup(self, greeting: str = "hello") -> None:
        """Keep per-instance state and register the tools."""
        self.greeting = greeting
        self.mcp.add_tool(self.describe, name=f"{self.name}_describe")

    def describe(self, who: str = "agent") -> dict[str, Any]:
        """Greet the caller and say where this tool server runs (host, pid, cwd)."""
        return {
            "message": f"{self.greeting}, {who}",
            "host": platform.node(),
            "pid": os.getpid(),
            "cwd": os.getcwd(),
        }
