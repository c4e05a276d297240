"""The FastMCP server a ChiaTool registers its tools on, and how it travels to the actor.

``ToolMCP`` is a :class:`fastmcp.FastMCP` whose ``add_tool`` also accepts a plain callable
with ``name=`` / ``description=`` (as ChiaTool subclasses call it) and a
``fn.chia_remote_blocking`` of a ``@ChiaFunction`` (the tool body then runs as its own Ray
task, placed by the function's resources). It remembers what was registered, so it pickles
as "rebuild a server with these registrations": the tool object is shipped to the Ray
actor that serves it, and FastMCP's own internals (locks, providers) never need to pickle.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastmcp import FastMCP
from fastmcp.tools import Tool

__all__ = ["ToolMCP", "remote_tool_function"]


def remote_tool_function(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Adapt ``f.chia_remote_blocking`` of a ``@ChiaFunction`` into a schema-bearing tool.

    ``chia_remote_blocking`` takes ``*args, **kwargs``, which MCP cannot describe. The
    adapter carries the original function's name, docstring and signature (without the
    instance for a method), and dispatches each call through Ray. Anything else is
    returned unchanged.

    Args:
        fn: A callable to register as a tool.

    Returns:
        A callable FastMCP can derive a name, a description and an input schema from.
    """
    owner = getattr(fn, "__self__", None)
    if getattr(fn, "__name__", "") != "chia_remote_blocking" or owner is None:
        return fn
    bound_obj = getattr(owner, "_obj", None)
    wrapped = getattr(owner, "_wrapped", owner)
    original: Callable[..., Any] = wrapped._fn
    signature = inspect.signature(original)
    params = list(signature.parameters.values())
    if bound_obj is not None:
        params = params[1:]

    @functools.wraps(original)
    def run_remote(**kwargs: Any) -> Any:
        if bound_obj is not None:
            return wrapped.chia_remote_blocking(bound_obj, **kwargs)
        return wrapped.chia_remote_blocking(**kwargs)

    del run_remote.__wrapped__  # FastMCP must read the signature set below, not the original's
    run_remote.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return run_remote


def _rebuild(name: str, registrations: list[tuple[Any, dict[str, Any]]]) -> ToolMCP:
    mcp = ToolMCP(name)
    for fn, options in registrations:
        mcp.add_tool(fn, **options)
    return mcp


class ToolMCP(FastMCP):
    """A FastMCP server that records its tool registrations (see the module docstring).

    Args:
        name: The server name (the ChiaTool's name).
    """

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._registrations: list[tuple[Any, dict[str, Any]]] = []
        self.http_apps: list[Any] = []

    def add_tool(
        self,
        tool: Tool | Callable[..., Any],
        name: str | None = None,
        description: str | None = None,
        **options: Any,
    ) -> Tool:
        """Register ``tool`` (a FastMCP ``Tool`` or a callable) under ``name``.

        Args:
            tool: A callable (its docstring becomes the description the model sees), a
                ``fn.chia_remote_blocking`` of a ``@ChiaFunction``, or a FastMCP ``Tool``.
            name: The tool name (default: the function's name).
            description: Overrides the docstring as the description.
            **options: Further ``Tool.from_function`` options (``tags``, ``timeout``...).

        Returns:
            The registered FastMCP tool.
        """
        if name is not None:
            options["name"] = name
        if description is not None:
            options["description"] = description
        self._registrations.append((tool, dict(options)))
        if isinstance(tool, Tool):
            return super().add_tool(tool)
        fn = remote_tool_function(tool)
        if not inspect.iscoroutinefunction(fn):
            options.setdefault("run_in_thread", True)
        return super().add_tool(Tool.from_function(fn, **options))

    def http_app(self, *args: Any, **kwargs: Any) -> Any:
        """Build the ASGI app (as FastMCP does) and remember it for its lifespan."""
        app = super().http_app(*args, **kwargs)
        self.http_apps.append(app)
        return app

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (_rebuild, (self.name, self._registrations))
