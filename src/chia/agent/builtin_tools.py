"""The tools every LLM-driven agent has: ``send_message``, ``finish_turn``, ``submit_result``.

Each tool's arguments are a pydantic model; its JSON schema is what the model sees, and
its validation is what turns a bad call into a structured error the model can read and
correct (never an exception in the agent).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chia.agent.policy import Action, FinishTurn, SendMessage, SubmitResult
from chia.llm.chat import ToolCallRequest, ToolSpec

__all__ = ["BUILTIN_SPECS", "BuiltinOutcome", "is_builtin", "run_builtin", "tool_error"]


class SendMessageArgs(BaseModel):
    """Send a message to one of your allowed peers."""

    model_config = ConfigDict(extra="forbid")

    recipient: str = Field(description="The peer's agent name (one of your allowed peers).")
    content: str = Field(min_length=1, max_length=256_000, description="The message text.")
    kind: Literal["chat"] = Field("chat", description="Message kind; always 'chat'.")
    reply_requested: bool = Field(True, description="Whether you expect an answer.")
    tldr: str = Field("", max_length=200, description="A one-line summary for dashboards.")


class FinishTurnArgs(BaseModel):
    """End your turn; you will be woken by the next message."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field("", description="Why you are done for now.")


class SubmitResultArgs(BaseModel):
    """Submit the campaign's final result; the campaign ends."""

    model_config = ConfigDict(extra="forbid")

    result: str = Field(min_length=1, description="The result, as the task asks for it.")


_MODELS: dict[str, type[BaseModel]] = {
    "send_message": SendMessageArgs,
    "finish_turn": FinishTurnArgs,
    "submit_result": SubmitResultArgs,
}


def _spec(name: str, model: type[BaseModel]) -> ToolSpec:
    schema = model.model_json_schema()
    schema.pop("title", None)
    schema.pop("description", None)
    for prop in schema.get("properties", {}).values():
        prop.pop("title", None)
        if "const" in prop:  # not every OpenAI-compatible server understands "const"
            prop["enum"] = [prop.pop("const")]
    return ToolSpec(name=name, description=(model.__doc__ or "").strip(), parameters=schema)


#: The built-in tools' specs, in the order the model sees them.
BUILTIN_SPECS: list[ToolSpec] = [_spec(name, model) for name, model in _MODELS.items()]


def is_builtin(name: str) -> bool:
    """True for ``send_message``, ``finish_turn`` and ``submit_result``."""
    return name in _MODELS


def tool_error(error: str, **details: Any) -> str:
    """A structured tool result reporting ``error``, as JSON text for the model."""
    return json.dumps({"ok": False, "error": error, **details})


@dataclass(frozen=True)
class BuiltinOutcome:
    """What a built-in call did.

    Attributes:
        ok: False when the call was refused; ``output`` says why.
        output: The JSON tool result the model reads.
        action: The action the agent executes after the turn, if any.
        ends_turn: True for ``finish_turn`` and ``submit_result``.
        rejected_recipient: The recipient of a refused ``send_message`` that named a
            peer this agent may not message.
    """

    ok: bool
    output: str
    action: Action | None = None
    ends_turn: bool = False
    rejected_recipient: str | None = None


def _refused(error: str, **details: Any) -> BuiltinOutcome:
    return BuiltinOutcome(ok=False, output=tool_error(error, **details))


def run_builtin(call: ToolCallRequest, allowed_peers: Sequence[str]) -> BuiltinOutcome:
    """Validate a built-in call and turn it into an action, or a structured refusal.

    Args:
        call: The model's tool call (``call.name`` must be a built-in).
        allowed_peers: Who this agent may message.
    """
    if call.error is not None:
        return _refused(f"{call.name}: {call.error}", hint="send the arguments as one JSON object")
    model = _MODELS[call.name]
    try:
        args = model.model_validate(call.arguments)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(arguments)", "problem": err["msg"]}
            for err in exc.errors()
        ]
        return _refused(f"invalid arguments for {call.name}", problems=problems)
    if isinstance(args, SendMessageArgs):
        if args.recipient not in allowed_peers:
            error = f"recipient {args.recipient!r} is not one of your allowed peers"
            refusal = tool_error(error, allowed_peers=list(allowed_peers))
            return BuiltinOutcome(ok=False, output=refusal, rejected_recipient=args.recipient)
        action = SendMessage(
            recipient=args.recipient,
            content=args.content,
            kind=args.kind,
            reply_requested=args.reply_requested,
            tldr=args.tldr or args.content[:200],
        )
        queued = json.dumps(
            {
                "ok": True,
                "queued": True,
                "recipient": args.recipient,
                "delivery": "when this turn ends; a failure shows in undelivered_messages",
            }
        )
        return BuiltinOutcome(ok=True, output=queued, action=action)
    if isinstance(args, SubmitResultArgs):
        submitted = json.dumps({"ok": True, "submitted": True})
        return BuiltinOutcome(True, submitted, SubmitResult(result=args.result), True)
    assert isinstance(args, FinishTurnArgs)
    return BuiltinOutcome(True, json.dumps({"ok": True}), FinishTurn(reason=args.reason), True)
