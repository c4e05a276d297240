"""The tool-calling loop of an LLM node whose tools are ChiaTools (MCP servers).

``LLMCallBase.prompt(user_message, tools=[ChiaTool, ...])`` on a chat model runs
:func:`prompt_with_mcp_tools`: it opens one MCP session per tool server, offers every tool
to the model (its docstring as the description, its input schema as the parameters),
runs each tool call the model makes against the tool's server, and feeds the results back
until the model answers without calling a tool or the round limit is reached.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from chia.base.llm_call import QueryResult
from chia.llm.chat import ChatMessage, Completion, ToolSpec
from chia.llm.errors import LLMCallError, LLMConfigError

__all__ = ["DEFAULT_MAX_ROUNDS", "is_mcp_tool", "prompt_with_mcp_tools", "run_tool_loop"]

#: Model turns allowed before the loop gives up.
DEFAULT_MAX_ROUNDS = 16


class _Completer(Protocol):
    async def complete(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()
    ) -> Completion: ...


def is_mcp_tool(tool: Any) -> bool:
    """True for a ChiaTool (anything with an ``mcp`` server and a ``url``) or an MCP URL."""
    if isinstance(tool, str):
        return tool.startswith(("http://", "https://"))
    return hasattr(tool, "mcp") and hasattr(tool, "url")


def _transcript(messages: list[ChatMessage]) -> str:
    return "\n".join(m.model_dump_json(exclude_defaults=True) for m in messages)


def _result(messages: list[ChatMessage], text: str, error: str | None) -> QueryResult:
    return QueryResult(
        result=text,
        returncode=0 if error is None else 1,
        stderr=error or "",
        stream_result=_transcript(messages),
        success=error is None,
    )


async def run_tool_loop(
    model: _Completer,
    system_message: str,
    user_message: str,
    tools: Sequence[Any],
    *,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
    timeout_s: float = 300.0,
) -> QueryResult:
    """Prompt ``model`` with the MCP tools of ``tools`` until it answers.

    Args:
        model: A chat model (``complete(messages, tools)``).
        system_message: The system prompt ("" for none).
        user_message: The user's message.
        tools: ChiaTools or MCP endpoint URLs.
        max_rounds: Model turns allowed.
        timeout_s: Connection and per-call timeout of the tool servers.

    Returns:
        The final answer and a JSON-lines transcript; on failure ``success`` is false and
        ``stderr`` says why.

    Raises:
        LLMConfigError: If an entry of ``tools`` is not an MCP tool.
    """
    from chia.base.tools.mcp_client import ToolClient

    strays = [t for t in tools if not is_mcp_tool(t)]
    if strays:
        raise LLMConfigError(f"not ChiaTools or MCP URLs: {strays!r}")
    messages = [ChatMessage.system(system_message)] if system_message else []
    messages.append(ChatMessage.user(user_message))
    try:
        async with ToolClient(tools, timeout_s=timeout_s) as client:
            specs = [
                ToolSpec(name=t.name, description=t.description, parameters=t.input_schema)
                for t in client.tools
            ]
            for _ in range(max_rounds):
                reply = await model.complete(messages, specs)
                messages.append(reply.as_message())
                if not reply.tool_calls:
                    return _result(messages, reply.content, None)
                for call in reply.tool_calls:
                    if call.error is not None:
                        ok, text = False, call.error
                    else:
                        ok, text = await client.call(call.name, call.arguments)
                    content = {"ok": True, "output": text} if ok else {"ok": False, "error": text}
                    messages.append(ChatMessage.tool(call.id, json.dumps(content)))
    except LLMCallError as exc:
        return _result(messages, "", str(exc))
    except Exception as exc:  # a tool server that cannot be reached, a protocol failure
        return _result(messages, "", f"tools: {type(exc).__name__}: {exc}")
    return _result(messages, "", f"tool-call rounds exhausted ({max_rounds})")


def prompt_with_mcp_tools(
    model: _Completer,
    system_message: str,
    user_message: str,
    tools: Sequence[Any],
    *,
    max_rounds: int = DEFAULT_MAX_ROUNDS,
) -> QueryResult:
    """Blocking :func:`run_tool_loop` (works inside a running event loop too)."""
    from chia.base.tools.mcp_client import run_blocking

    return run_blocking(
        run_tool_loop(model, system_message, user_message, tools, max_rounds=max_rounds)
    )
