"""The part every LangChain-backed provider shares: messages, tools, retries, prompts.

A provider subclasses :class:`LangChainChatLLM` and builds its LangChain chat model in
:meth:`LangChainChatLLM._build` (SDK retries off: :mod:`chia.llm.model_errors` retries).
Conversion between :mod:`chia.llm.chat` and LangChain messages, the tool-calling
``prompt`` loop, error classification and redaction live here. A reply's provider-only
content (Anthropic thinking blocks, Gemini thought signatures) is kept, keyed by its tool
call ids, and sent back unchanged when the conversation repeats that assistant turn, as
those APIs require within a tool loop.
"""

from __future__ import annotations

import inspect
import json
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)

from chia.base.llm_call import LLMCallBase, QueryResult
from chia.llm.chat import ChatMessage, Completion, ToolCallRequest, ToolSpec
from chia.llm.errors import LLMCallError
from chia.llm.model_errors import (
    RetryListener,
    RetryPolicy,
    call_with_retries,
    call_with_retries_sync,
    classify,
)
from chia.llm.settings import redact
from chia.llm.tool_loop import is_mcp_tool, prompt_with_mcp_tools

__all__ = ["LangChainChatLLM", "from_langchain", "to_langchain"]

_PROMPT_TOOL_ROUNDS = 8
_KEPT_REPLIES = 64


def to_langchain(message: ChatMessage) -> BaseMessage:
    """One chat message as the LangChain message a chat model takes."""
    if message.role == "system":
        return SystemMessage(content=message.content)
    if message.role == "user":
        return HumanMessage(content=message.content)
    if message.role == "tool":
        return ToolMessage(content=message.content, tool_call_id=message.tool_call_id or "")
    valid = [c for c in message.tool_calls if c.error is None]
    invalid = [c for c in message.tool_calls if c.error is not None]
    return AIMessage(
        content=message.content,
        tool_calls=[
            {"name": c.name, "args": c.arguments, "id": c.id, "type": "tool_call"} for c in valid
        ],
        invalid_tool_calls=[
            {
                "name": c.name,
                "args": c.raw_arguments,
                "id": c.id,
                "error": c.error,
                "type": "invalid_tool_call",
            }
            for c in invalid
        ],
    )


def from_langchain(reply: AIMessage, model: str, latency_s: float) -> Completion:
    """A LangChain reply as a :class:`Completion` (text blocks joined, tool calls parsed)."""
    calls = [
        ToolCallRequest(id=c.get("id") or f"call_{i}", name=c["name"], arguments=c["args"])
        for i, c in enumerate(reply.tool_calls)
    ]
    calls += [
        ToolCallRequest(
            id=c.get("id") or f"invalid_{i}",
            name=c.get("name") or "",
            raw_arguments=c.get("args"),
            error="arguments are not valid JSON",
        )
        for i, c in enumerate(reply.invalid_tool_calls)
    ]
    usage: dict[str, Any] = dict(reply.usage_metadata or {})
    content = reply.content if isinstance(reply.content, str) else reply.text
    metadata = reply.response_metadata
    answered = metadata.get("model_name") or metadata.get("model_id") or metadata.get("model")
    return Completion(
        content=content,
        tool_calls=calls,
        tokens_in=int(usage.get("input_tokens", 0)),
        tokens_out=int(usage.get("output_tokens", 0)),
        tokens_cached=int((usage.get("input_token_details") or {}).get("cache_read") or 0),
        latency_s=round(latency_s, 6),
        model=str(answered or model),
    )


class LangChainChatLLM(LLMCallBase):
    """A chat model reached through a LangChain integration.

    Subclasses set :attr:`provider_name`, build :attr:`chat_model` in :meth:`_build` and
    may override :meth:`secrets` and :attr:`auth_hint`.

    Args:
        model: The model name sent to the provider.
        system_message: The system prompt :meth:`prompt` sends.
        retry: How failed calls are retried.
    """

    provider_name = "langchain"

    def __init__(self, model: str, system_message: str = "", retry: RetryPolicy | None = None):
        super().__init__(system_message)
        self._model = model
        self.retry = retry or RetryPolicy()
        self.retry_listener: RetryListener | None = None
        self._replies: OrderedDict[str, AIMessage] = OrderedDict()
        self.chat_model: Any = None

    @property
    def provider(self) -> str:
        """The provider name as configured."""
        return self.provider_name

    @property
    def model(self) -> str:
        """The model name sent to the provider."""
        return self._model

    @property
    def auth_hint(self) -> str | None:
        """What to set when the provider answers 401/403."""
        return None

    def secrets(self) -> list[str]:
        """Every secret value that must never appear in a message (keys, tokens)."""
        return []

    def _redact(self, text: str) -> str:
        for secret in self.secrets():
            text = redact(text, secret)
        return text

    def _classify(self, exc: BaseException) -> LLMCallError:
        return classify(exc, self.provider, self._redact, self.auth_hint)

    def tool_schema(self, tool: ToolSpec) -> dict[str, Any]:
        """The tool as handed to ``bind_tools`` (OpenAI's form; each integration converts)."""
        return tool.openai_schema()

    def _runnable(self, tools: Sequence[ToolSpec]) -> Any:
        model = self.chat_model
        return model.bind_tools([self.tool_schema(t) for t in tools]) if tools else model

    def _messages(self, messages: Sequence[ChatMessage]) -> list[BaseMessage]:
        converted: list[BaseMessage] = []
        for message in messages:
            kept = None
            if message.role == "assistant" and message.tool_calls:
                kept = self._replies.get(message.tool_calls[0].id)
            converted.append(kept if kept is not None else to_langchain(message))
        return converted

    def _completion(self, reply: Any, started: float) -> Completion:
        if not isinstance(reply, AIMessage):
            raise LLMCallError(f"{self.provider}: unexpected reply {type(reply).__name__}")
        completion = from_langchain(reply, self.model, time.monotonic() - started)
        if completion.tool_calls:  # content blocks or signatures the API wants back
            self._replies[completion.tool_calls[0].id] = reply
            while len(self._replies) > _KEPT_REPLIES:
                self._replies.popitem(last=False)
        return completion

    async def complete(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()
    ) -> Completion:
        """Send the conversation and return the model's next turn.

        Raises:
            LLMCallError: On any HTTP, timeout or protocol failure, once retries are spent
                or the error is final (classified, secrets redacted).
        """
        runnable = self._runnable(tools)
        request = self._messages(messages)
        started = time.monotonic()

        async def call() -> Any:
            return await runnable.ainvoke(request)

        reply = await call_with_retries(call, self._classify, self.retry, self.retry_listener)
        return self._completion(reply, started)

    def complete_sync(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()
    ) -> Completion:
        """Blocking :meth:`complete`, for callers without an event loop.

        Raises:
            LLMCallError: As :meth:`complete`.
        """
        runnable = self._runnable(tools)
        request = self._messages(messages)
        started = time.monotonic()
        reply = call_with_retries_sync(
            lambda: runnable.invoke(request), self._classify, self.retry, self.retry_listener
        )
        return self._completion(reply, started)

    def prompt(self, user_message: str, tools: Sequence[Any] | None = ()) -> QueryResult:
        """Prompt the model once; run tool calls (plain callables) until it answers.

        Args:
            user_message: The user's message.
            tools: Python callables the model may call, by their ``__name__``; the first
                line of the docstring describes each and its keyword arguments. ChiaTools
                (or MCP URLs) are called over MCP instead (:mod:`chia.llm.tool_loop`).

        Returns:
            The final text, a JSON-lines transcript, and success or the redacted error.
        """
        if tools and any(is_mcp_tool(t) for t in tools):  # ChiaTools: over MCP
            return prompt_with_mcp_tools(self, self.system_message, user_message, tools)
        functions = {t.__name__: t for t in tools or () if callable(t)}
        specs = [_callable_spec(f) for f in functions.values()]
        messages = [ChatMessage.system(self.system_message)] if self.system_message else []
        messages.append(ChatMessage.user(user_message))
        try:
            for _ in range(_PROMPT_TOOL_ROUNDS):
                reply = self.complete_sync(messages, specs)
                messages.append(reply.as_message())
                if not reply.tool_calls:
                    return _query_result(messages, reply.content, None)
                for call in reply.tool_calls:
                    messages.append(ChatMessage.tool(call.id, _run_tool(functions, call)))
            return _query_result(messages, "", "tool-call rounds exhausted")
        except LLMCallError as exc:
            return _query_result(messages, "", str(exc))


def _callable_spec(function: Callable[..., Any]) -> ToolSpec:
    params = {name: {"type": "string"} for name in inspect.signature(function).parameters}
    doc = (function.__doc__ or "").strip().splitlines()
    return ToolSpec(
        name=function.__name__,
        description=doc[0] if doc else "",
        parameters={"type": "object", "properties": params, "required": list(params)},
    )


def _run_tool(functions: dict[str, Callable[..., Any]], call: ToolCallRequest) -> str:
    function = functions.get(call.name)
    if function is None or call.error is not None:
        return json.dumps({"ok": False, "error": call.error or f"unknown tool {call.name!r}"})
    try:
        return json.dumps({"ok": True, "output": str(function(**call.arguments))})
    except Exception as exc:
        return json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"})


def _query_result(messages: list[ChatMessage], result: str, error: str | None) -> QueryResult:
    transcript = "\n".join(m.model_dump_json(exclude_defaults=True) for m in messages)
    return QueryResult(
        result=result,
        returncode=0 if error is None else 1,
        stderr=error or "",
        stream_result=transcript,
        success=error is None,
    )
