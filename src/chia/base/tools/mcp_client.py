"""Calling ChiaTools over MCP: what an LLM or agent node uses to reach its tools.

:class:`ToolClient` opens one FastMCP client session per tool endpoint (URLs pass through
:func:`~chia.base.tools.ChiaTool.resolve_tool_url`, so relayed nodes connect through
their relay), lists every tool with its description (the tool function's docstring) and
input schema, and routes calls by tool name. :func:`call_tool` is the one-shot, blocking
form for scripts and tests.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastmcp import Client

from chia.base.tools.ChiaTool import ChiaTool, resolve_tool_url

__all__ = ["RemoteTool", "ToolClient", "call_tool", "run_blocking", "tool_urls"]

T = TypeVar("T")


@dataclass(frozen=True)
class RemoteTool:
    """One tool offered by a tool server.

    Attributes:
        name: The tool's name (unique across the servers of one client).
        description: What it does (the tool function's docstring).
        input_schema: JSON schema of its arguments.
        url: The endpoint serving it.
    """

    name: str
    description: str
    input_schema: dict[str, Any] = field(default_factory=dict)
    url: str = ""


def tool_urls(tools: Sequence[ChiaTool | str]) -> list[str]:
    """The endpoints of ``tools`` (ChiaTools or URLs), resolved for this node."""
    return [resolve_tool_url(t if isinstance(t, str) else t.url) for t in tools]


def result_text(result: Any) -> str:
    """The text of an MCP tool result (its text blocks, else its structured content)."""
    texts = [b.text for b in result.content if isinstance(getattr(b, "text", None), str)]
    if texts:
        return "\n".join(texts)
    if result.structured_content is not None:
        return json.dumps(result.structured_content)
    return ""


class ToolClient:
    """Open sessions to several tool servers and call their tools by name.

    Use as ``async with ToolClient([tool_a, tool_b]) as client:``, then
    ``client.tools`` and ``await client.call(name, arguments)``.

    Args:
        tools: ChiaTools (their ``url``) or endpoint URLs.
        timeout_s: Connection and per-call timeout.

    Raises:
        ValueError: On entry, if two servers offer a tool of the same name.
    """

    def __init__(self, tools: Sequence[ChiaTool | str], timeout_s: float = 300.0) -> None:
        self.urls = tool_urls(tools)
        self.timeout_s = timeout_s
        self.tools: list[RemoteTool] = []
        self._routes: dict[str, Client[Any]] = {}
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> ToolClient:
        try:
            for url in self.urls:
                client: Client[Any] = Client(url, timeout=self.timeout_s)
                await self._stack.enter_async_context(client)
                for tool in await client.list_tools():
                    if tool.name in self._routes:
                        raise ValueError(f"tool {tool.name!r} is offered by two servers")
                    self._routes[tool.name] = client
                    self.tools.append(
                        RemoteTool(tool.name, tool.description or "", dict(tool.inputSchema), url)
                    )
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._routes.clear()
        await self._stack.aclose()

    def owns(self, name: str) -> bool:
        """True if one of the servers offers a tool called ``name``."""
        return name in self._routes

    async def call(self, name: str, arguments: dict[str, Any]) -> tuple[bool, str]:
        """Call tool ``name``; return ``(ok, text)``. Failures are returned, not raised."""
        client = self._routes.get(name)
        if client is None:
            return False, f"unknown tool {name!r}"
        try:
            result = await client.call_tool(
                name, arguments, raise_on_error=False, timeout=self.timeout_s
            )
        except Exception as exc:
            return False, f"{type(exc).__name__}: {exc}"
        return not result.is_error, result_text(result)


def run_blocking(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from synchronous code, even inside a running loop.

    With no loop running in this thread it uses :func:`asyncio.run`; otherwise it runs a
    fresh loop in a helper thread (so a sync ``prompt`` works from async callers too).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="chia-tool-client")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def call_tool(
    tool: ChiaTool | str, name: str, arguments: dict[str, Any] | None = None, timeout_s: float = 300
) -> Any:
    """Call one tool once and return its result, decoded from JSON when it is JSON.

    Args:
        tool: The ChiaTool (or endpoint URL) offering the tool.
        name: The tool's name.
        arguments: Its arguments.
        timeout_s: Connection and call timeout.

    Raises:
        RuntimeError: If the tool reported an error (the message carries its text).
    """

    async def once() -> tuple[bool, str]:
        async with ToolClient([tool], timeout_s=timeout_s) as client:
            return await client.call(name, arguments or {})

    ok, text = run_blocking(once())
    if not ok:
        raise RuntimeError(f"tool {name!r} failed: {text}")
    try:
        return json.loads(text)
    except ValueError:
        return text
