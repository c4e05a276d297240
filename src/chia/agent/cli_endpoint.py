"""The MCP endpoint an agent CLI calls: its agent's built-in tools and campaign MCP tools.

One streamable-HTTP FastMCP server per agent, on 127.0.0.1 and a port the kernel picks
(the bound socket is handed to uvicorn, so no other process can take the port between
choosing and serving it). It is served in the agent's own event loop, so a tool call the
CLI makes runs where the policy's turn runs (the CLI itself waits in a thread). Each tool
is declared with the schema the LLM policy offers its model, and every call goes to one
handler that returns ``(ok, text)``; a refused call is an MCP error result (``isError``)
whose text the CLI's model reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import uvicorn
from fastmcp import FastMCP
from fastmcp.tools import Tool
from fastmcp.tools.base import ToolResult
from pydantic import PrivateAttr

from chia.llm.chat import ToolSpec

__all__ = ["SERVER_NAME", "ToolEndpoint", "ToolHandler"]

#: The MCP server name the CLI knows the endpoint by (claude: ``mcp__chia__<tool>``).
SERVER_NAME = "chia"

#: Answers one call: ``(tool name, arguments) -> (ok, text)``.
ToolHandler = Callable[[str, dict[str, Any]], Awaitable[tuple[bool, str]]]

_START_TIMEOUT_S = 30.0


class _Forwarded(Tool):
    """A tool whose calls go to the endpoint's handler."""

    _handler: ToolHandler | None = PrivateAttr(default=None)

    async def run(self, arguments: dict[str, Any]) -> ToolResult:
        assert self._handler is not None
        ok, text = await self._handler(self.name, dict(arguments))
        return ToolResult(content=text, is_error=not ok)


class _Server(uvicorn.Server):
    """uvicorn in a loop it does not own: the host keeps its own signal handlers."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ToolEndpoint:
    """Serves ``specs`` over MCP; every call is answered by ``handler``.

    Args:
        specs: The tools, as the model sees them (name, description, JSON schema).
        handler: Answers each call.
    """

    def __init__(self, specs: Sequence[ToolSpec], handler: ToolHandler) -> None:
        self._mcp: FastMCP[Any] = FastMCP(SERVER_NAME)
        for spec in specs:
            tool = _Forwarded(
                name=spec.name, description=spec.description, parameters=spec.parameters
            )
            tool._handler = handler
            self._mcp.add_tool(tool)
        self._sock: socket.socket | None = None
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """The endpoint's URL (``http://127.0.0.1:<port>/mcp``); valid once started."""
        if self._sock is None:
            raise RuntimeError("the MCP endpoint is not started")
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/mcp"

    async def start(self) -> None:
        """Bind a free loopback port and serve until :meth:`close`.

        Raises:
            RuntimeError: If the server failed or did not start within 30 s.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self._sock = sock
        config = uvicorn.Config(
            self._mcp.http_app(path="/mcp", stateless_http=True, json_response=True),
            log_level="warning",
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=2,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        deadline = asyncio.get_running_loop().time() + _START_TIMEOUT_S
        while not self._server.started:
            if self._task.done() or asyncio.get_running_loop().time() > deadline:
                await self.close()
                raise RuntimeError("the agent CLI's MCP endpoint did not start")
            await asyncio.sleep(0.01)

    async def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        server, task, sock = self._server, self._task, self._sock
        self._server, self._task, self._sock = None, None, None
        if server is not None and task is not None:
            server.should_exit = True
            try:
                await asyncio.wait_for(asyncio.shield(task), 5)
            except (asyncio.TimeoutError, Exception):
                server.force_exit = True
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
        if sock is not None:
            sock.close()
