"""Scripts of model replies, shared by the scripted provider and the fake OpenAI server.

A script is a JSON file: either a list of steps, or an object with ``responses`` (the
steps, replayed in order), an optional ``default`` (replayed once the steps run out) and
an optional ``model``. A step is a reply (``content``, ``tool_calls``, ``usage``) or an
HTTP error (``status`` and ``error``)::

    {"responses": [
       {"tool_calls": [{"name": "send_message",
                        "arguments": {"recipient": "agent-crux", "content": "counter = 1"}}],
        "usage": {"prompt_tokens": 120, "completion_tokens": 9}},
       {"content": "done"}],
     "default": {"tool_calls": [{"name": "finish_turn", "arguments": {"reason": "idle"}}]}}

``arguments`` may be a string: it is sent verbatim, so malformed JSON can be scripted.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chia.llm.chat import ToolCallRequest
from chia.llm.errors import LLMConfigError

__all__ = ["Script", "ScriptPlayer", "ScriptStep", "ScriptedToolCall", "Usage"]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScriptedToolCall(_Frozen):
    """One tool call in a scripted reply."""

    name: str
    arguments: dict[str, Any] | str = Field(default_factory=dict)
    id: str | None = None

    def raw_arguments(self) -> str:
        """The arguments exactly as they go on the wire."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)

    def request(self, call_id: str) -> ToolCallRequest:
        """This call as the model's parsed tool-call request."""
        raw = self.raw_arguments()
        try:
            parsed = json.loads(raw)
        except ValueError as exc:
            error = f"arguments are not valid JSON: {exc}"
            return ToolCallRequest(id=call_id, name=self.name, raw_arguments=raw, error=error)
        if not isinstance(parsed, dict):
            error = "arguments are not a JSON object"
            return ToolCallRequest(id=call_id, name=self.name, raw_arguments=raw, error=error)
        return ToolCallRequest(id=call_id, name=self.name, arguments=parsed)


class Usage(_Frozen):
    """Token counts a reply reports."""

    prompt_tokens: int = Field(0, ge=0)
    completion_tokens: int = Field(0, ge=0)
    cached_tokens: int = Field(0, ge=0, description="Prompt tokens served from a cache.")


class ScriptStep(_Frozen):
    """One scripted reply, or one scripted HTTP error when ``status`` is not 200."""

    content: str = ""
    tool_calls: list[ScriptedToolCall] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    status: int = Field(200, ge=100, le=599)
    error: str = "scripted error"
    delay_s: float = Field(0.0, ge=0)
    retry_after_s: float | None = Field(
        None, ge=0, description="With an error: the Retry-After header the server sends."
    )
    error_code: str | None = Field(
        None, description="With an error: the provider's error type (e.g. ThrottlingException)."
    )
    thinking: str = Field("", description="Reasoning text, for providers that return it.")


class Script(_Frozen):
    """Replies to replay in order, then ``default`` (if any) forever."""

    model: str | None = None
    responses: list[ScriptStep] = Field(default_factory=list)
    default: ScriptStep | None = None

    @classmethod
    def parse(cls, data: Any, source: str = "script") -> Script:
        """Build a script from parsed JSON (a list of steps, or an object).

        Raises:
            LLMConfigError: If the data is not a valid script; the message names ``source``.
        """
        if isinstance(data, list):
            data = {"responses": data}
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise LLMConfigError(f"{source}: not a valid reply script: {exc}") from None

    @classmethod
    def load(cls, path: Path) -> Script:
        """Read a script file.

        Raises:
            LLMConfigError: If the file is missing, not JSON, or not a valid script.
        """
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise LLMConfigError(f"{path}: cannot read reply script: {exc}") from None
        return cls.parse(data, str(path))


class ScriptPlayer:
    """Hands out a script's steps in order; thread-safe.

    Args:
        script: The script to replay.
    """

    def __init__(self, script: Script) -> None:
        self.script = script
        self._next = 0
        self._lock = threading.Lock()

    @property
    def played(self) -> int:
        """How many steps were handed out (defaults included)."""
        return self._next

    def next_step(self) -> ScriptStep | None:
        """Return the next step, the default once the steps ran out, or None."""
        with self._lock:
            index = self._next
            self._next += 1
        if index < len(self.script.responses):
            return self.script.responses[index]
        return self.script.default
