"""Provider-neutral chat types: messages, tool specs, tool calls and completions.

Policies speak these types; each provider converts them to its own wire format, so the
model always receives real chat messages (never a Python ``repr`` of a message list).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ChatMessage", "ChatModel", "Completion", "ToolCallRequest", "ToolSpec"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ToolSpec(_Frozen):
    """A tool the model may call: its name, what it does, and a JSON schema of arguments."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=lambda: {"type": "object", "properties": {}})

    def openai_schema(self) -> dict[str, Any]:
        """Return the OpenAI ``tools`` entry for this tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


class ToolCallRequest(_Frozen):
    """One tool call the model asked for.

    Attributes:
        id: The call id the tool result must echo.
        name: The tool name.
        arguments: Parsed arguments (empty when they did not parse).
        raw_arguments: The arguments as the model sent them, when they did not parse.
        error: Why the arguments did not parse, if they did not.
    """

    id: str
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    raw_arguments: str | None = None
    error: str | None = None


class ChatMessage(_Frozen):
    """One chat message: system, user, assistant (maybe with tool calls) or tool result."""

    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    tool_calls: list[ToolCallRequest] = Field(default_factory=list)
    tool_call_id: str | None = None

    @classmethod
    def system(cls, content: str) -> ChatMessage:
        """A system message."""
        return cls(role="system", content=content)

    @classmethod
    def user(cls, content: str) -> ChatMessage:
        """A user message."""
        return cls(role="user", content=content)

    @classmethod
    def tool(cls, call_id: str, content: str) -> ChatMessage:
        """The result of tool call ``call_id``."""
        return cls(role="tool", content=content, tool_call_id=call_id)


class Completion(_Frozen):
    """What one model call returned, with its cost.

    Attributes:
        content: The text of the reply (may be empty when the model only calls tools).
        tool_calls: The tool calls the model asked for, in order.
        tokens_in: Prompt tokens, as the provider reported them (0 if it did not).
        tokens_out: Completion tokens, as the provider reported them.
        tokens_cached: Prompt tokens served from the provider's cache (part of tokens_in).
        latency_s: Wall time of the call.
        model: The model that answered.
        request_digest: The digest of the request this answers, when the call was recorded
            (see :mod:`chia.llm.recording`).
    """

    content: str = ""
    tool_calls: list[ToolCallRequest] = Field(default_factory=list)
    tokens_in: int = Field(0, ge=0)
    tokens_out: int = Field(0, ge=0)
    tokens_cached: int = Field(0, ge=0)
    latency_s: float = Field(0.0, ge=0)
    model: str = ""
    request_digest: str | None = None

    def as_message(self) -> ChatMessage:
        """The assistant message to append to the conversation."""
        return ChatMessage(role="assistant", content=self.content, tool_calls=self.tool_calls)


class ChatModel(Protocol):
    """A model that completes a conversation, optionally calling tools."""

    @property
    def provider(self) -> str:
        """The provider name (``openai_compatible``, ``scripted``...)."""
        ...

    @property
    def model(self) -> str:
        """The model name sent to the provider."""
        ...

    async def complete(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()
    ) -> Completion:
        """Return the model's next turn.

        Raises:
            LLMCallError: If the call failed.
        """
        ...
