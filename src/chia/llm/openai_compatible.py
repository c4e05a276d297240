"""The ``openai_compatible`` provider: any chat-completions endpoint, through ChatOpenAI.

OpenAI itself, vLLM, Ollama, OpenRouter, Groq, Fireworks and Argo-style gateways differ
only in ``base_url``, the key variable and (Argo) a ``user`` field. Reasoning models get no
sampling knobs (see :mod:`chia.llm.reasoning`). The key lives only in ChatOpenAI's
``SecretStr``; errors are redacted before they leave this module.
"""

from __future__ import annotations

import inspect
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_openai import ChatOpenAI

from chia.base.llm_call import LLMCallBase, QueryResult
from chia.llm.chat import ChatMessage, Completion, ToolCallRequest, ToolSpec
from chia.llm.errors import LLMCallError, LLMConfigError
from chia.llm.reasoning import drop_sampling_knobs, is_reasoning_model
from chia.llm.settings import LLMConfig, read_api_key, redact
from chia.llm.tool_loop import is_mcp_tool, prompt_with_mcp_tools

__all__ = ["OpenAICompatibleLLM"]

#: Settings this provider understands (anything else is a configuration error).
SETTINGS = frozenset(
    {
        "temperature",
        "max_tokens",
        "timeout_s",
        "max_retries",
        "user",
        "top_p",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "reasoning_effort",
    }
)
#: Sent when no key is configured (vLLM, Ollama); an explicit value keeps ChatOpenAI
#: from picking up OPENAI_API_KEY and sending it to some other endpoint.
_NO_KEY = "not-needed"
_PROMPT_TOOL_ROUNDS = 8


def _to_langchain(message: ChatMessage) -> BaseMessage:
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


def _from_langchain(reply: AIMessage, model: str, latency_s: float) -> Completion:
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
    content = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    return Completion(
        content=content,
        tool_calls=calls,
        tokens_in=int(usage.get("input_tokens", 0)),
        tokens_out=int(usage.get("output_tokens", 0)),
        latency_s=round(latency_s, 6),
        model=str(reply.response_metadata.get("model_name") or model),
    )


class OpenAICompatibleLLM(LLMCallBase):
    """A chat-completions model reached through langchain-openai's ChatOpenAI.

    Args:
        config: The resolved configuration (see :meth:`LLMConfig.resolve`).
        system_message: The system prompt :meth:`prompt` sends.

    Raises:
        LLMConfigError: For an unknown setting or a missing API key.
    """

    def __init__(self, config: LLMConfig, system_message: str = "") -> None:
        super().__init__(system_message)
        unknown = sorted(set(config.settings) - SETTINGS)
        if unknown:
            raise LLMConfigError(
                f"lm provider {config.provider!r}: unknown setting(s) {', '.join(unknown)} "
                f"(known: {', '.join(sorted(SETTINGS))})"
            )
        self.config = config
        self._secret = read_api_key(config.api_key_env) if config.api_key_env else None
        self.chat_model = self._build()

    @property
    def provider(self) -> str:
        """The provider name as configured."""
        return self.config.provider

    @property
    def model(self) -> str:
        """The model name sent to the provider."""
        return self.config.model

    @property
    def reasoning(self) -> bool:
        """True when sampling knobs are dropped for this model."""
        return is_reasoning_model(self.config.model)

    def _build(self) -> ChatOpenAI:
        settings = drop_sampling_knobs(self.config.model, self.config.settings)
        user = settings.pop("user", None)
        kwargs: dict[str, Any] = {
            "model": self.config.model,
            "api_key": self._secret or _NO_KEY,
            "base_url": self.config.base_url,
            "timeout": settings.pop("timeout_s", 120.0),
            "max_retries": settings.pop("max_retries", 2),
            "stream_usage": True,
            "model_kwargs": {"user": user} if user else {},
            **settings,
        }
        if self.reasoning:
            # Explicit None: ChatOpenAI would otherwise default o1 models to temperature=1.
            kwargs["temperature"] = None
        return ChatOpenAI(**kwargs)

    def _redact(self, text: str) -> str:
        return redact(text, self._secret)

    def _runnable(self, tools: Sequence[ToolSpec]) -> Any:
        model = self.chat_model
        return model.bind_tools([t.openai_schema() for t in tools]) if tools else model

    def _completion(self, reply: Any, started: float) -> Completion:
        assert isinstance(reply, AIMessage)
        return _from_langchain(reply, self.config.model, time.monotonic() - started)

    async def complete(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()
    ) -> Completion:
        """Send the conversation and return the model's next turn.

        Raises:
            LLMCallError: On any HTTP, timeout or protocol failure (key redacted).
        """
        started = time.monotonic()
        try:
            reply = await self._runnable(tools).ainvoke([_to_langchain(m) for m in messages])
        except Exception as exc:
            raise LLMCallError(self._redact(f"{type(exc).__name__}: {exc}")) from None
        return self._completion(reply, started)

    def complete_sync(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()
    ) -> Completion:
        """Blocking :meth:`complete`, for callers without an event loop.

        Raises:
            LLMCallError: On any HTTP, timeout or protocol failure (key redacted).
        """
        started = time.monotonic()
        try:
            reply = self._runnable(tools).invoke([_to_langchain(m) for m in messages])
        except Exception as exc:
            raise LLMCallError(self._redact(f"{type(exc).__name__}: {exc}")) from None
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
