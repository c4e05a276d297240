"""An agent's MCP tools: start its servers, expose the allowed tools, call them, stop.

Each server the agent lists in ``mcp_servers`` is reached through a FastMCP client:
a ``command`` is started as a stdio subprocess (in the campaign's directory, with a
minimal environment plus the server's ``env``: API keys are not passed on), a ``url`` is
connected to. Only tools matching the agent's ``allowed_tools`` (``server.tool`` or
``server.*``) are offered to the model, as ``server__tool`` (OpenAI tool names allow no
dots). Servers are stopped by :meth:`McpToolbox.close`, which the host calls when the
agent stops.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastmcp import Client
from fastmcp.client.transports import StdioTransport
from mcp.client.stdio import get_default_environment

from chia.campaign.model import AgentSpec, McpServerSpec
from chia.errors import ChiaUsageError
from chia.llm.chat import ToolSpec

__all__ = ["McpToolbox", "allowed", "model_tool_name"]

_PYTHON = {"python", "python3"}


def model_tool_name(server: str, tool: str) -> str:
    """The name the model sees for ``server.tool``: ``server__tool``, OpenAI-safe."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}__{tool}")[:64]


def allowed(server: str, tool: str, patterns: Sequence[str]) -> bool:
    """True if ``server.tool`` matches one of ``patterns`` (``server.tool``, ``server.*``)."""
    return f"{server}.{tool}" in patterns or f"{server}.*" in patterns


@dataclass(frozen=True)
class _Route:
    server: str
    tool: str
    client: Client[Any]


def _transport(spec: McpServerSpec, workdir: Path | None) -> Any:
    if spec.url is not None:
        return spec.url
    assert spec.command is not None
    # "python" means the interpreter chia runs on, so examples work inside a venv.
    command = sys.executable if spec.command in _PYTHON else spec.command
    env = {**get_default_environment(), **spec.env}
    # keep_alive=False: the server process ends with the client session, not later.
    cwd = str(workdir) if workdir else None
    return StdioTransport(command, list(spec.args), env=env, cwd=cwd, keep_alive=False)


def _result_text(result: Any) -> str:
    parts = [getattr(block, "text", None) for block in result.content]
    texts = [part for part in parts if isinstance(part, str)]
    if texts:
        return "\n".join(texts)
    if result.structured_content is not None:
        return json.dumps(result.structured_content)
    return ""


class McpToolbox:
    """The MCP tools one agent may call.

    Args:
        servers: The campaign's MCP server declarations.
        agent: The agent (its ``mcp_servers`` and ``allowed_tools`` are used).
        workdir: Working directory of stdio servers (the campaign's directory).
        timeout_s: Per-call and start-up timeout.
    """

    def __init__(
        self,
        servers: Sequence[McpServerSpec],
        agent: AgentSpec,
        *,
        workdir: Path | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        by_name = {server.name: server for server in servers}
        self._servers = [
            by_name[name]
            for name in agent.mcp_servers
            if name in by_name and any(p.startswith(f"{name}.") for p in agent.allowed_tools)
        ]
        self._patterns = list(agent.allowed_tools)
        self._workdir = workdir
        self._timeout_s = timeout_s
        self._stack = AsyncExitStack()
        self._routes: dict[str, _Route] = {}
        self.specs: list[ToolSpec] = []

    @property
    def servers(self) -> list[str]:
        """The servers this agent uses (those with at least one allowed tool)."""
        return [server.name for server in self._servers]

    async def start(self) -> None:
        """Start or connect to every server and list its allowed tools.

        Raises:
            ChiaUsageError: If a server cannot be started or reached (named in the message).
        """
        for server in self._servers:
            client: Client[Any] = Client(_transport(server, self._workdir), timeout=self._timeout_s)
            try:
                await self._stack.enter_async_context(client)
                tools = await client.list_tools()
            except Exception as exc:
                await self.close()
                raise ChiaUsageError(
                    f"MCP server {server.name!r} could not be started or reached: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            for tool in tools:
                if not allowed(server.name, tool.name, self._patterns):
                    continue
                name = model_tool_name(server.name, tool.name)
                self._routes[name] = _Route(server.name, tool.name, client)
                self.specs.append(
                    ToolSpec(
                        name=name,
                        description=tool.description or f"{server.name}.{tool.name}",
                        parameters=dict(tool.inputSchema),
                    )
                )

    def owns(self, name: str) -> bool:
        """True if ``name`` (as the model calls it) is one of these MCP tools."""
        return name in self._routes

    def qualified(self, name: str) -> str:
        """``server.tool`` for a model-facing tool name (the name itself if unknown)."""
        route = self._routes.get(name)
        return f"{route.server}.{route.tool}" if route else name

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[bool, str]:
        """Call a tool; return ``(ok, text)``. Failures are returned, never raised."""
        route = self._routes[name]
        try:
            result = await route.client.call_tool(
                route.tool, arguments, raise_on_error=False, timeout=self._timeout_s
            )
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return not result.is_error, _result_text(result)

    async def close(self) -> None:
        """Stop every stdio server and disconnect from every URL server."""
        stack, self._stack = self._stack, AsyncExitStack()
        self._routes.clear()
        self.specs = []
        await stack.aclose()
