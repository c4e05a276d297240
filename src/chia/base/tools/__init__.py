"""MCP tool servers on Ray: ``ChiaTool`` and the ready-made tools built on it.

The public API lives in the submodules, as documented: ``chia.base.tools.ChiaTool``
(``ChiaTool``, ``ToolInfo``, ``resolve_tool_url``, ``start_router``),
``chia.base.tools.ChiaToolTemplate``, ``chia.base.tools.BashTool``,
``chia.base.tools.AsyncJobTool``, ``chia.base.tools.AsyncBashTool``,
``chia.base.tools.util`` (``make_router_lifespan``) and ``chia.base.tools.mcp_client``
(calling tools from an LLM node). This package module imports nothing.
"""

__all__: list[str] = []
