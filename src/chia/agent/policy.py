"""The decision interface: a policy looks at an agent's state and returns actions.

The offline :class:`~chia.agent.scripted.ScriptedPolicy` and the LLM policy both implement
:class:`Policy`; the campaign agent executes whatever actions come back.

Two optional extensions, checked at run time so plain policies need neither:

* :class:`ObservedPolicy`: the agent hands it a :class:`PolicySink` through which it
  records events (model calls, tool calls and results) and token counts.
* :class:`ManagedPolicy`: it holds resources (MCP tool servers) that the host starts
  before the agent runs and stops when the agent stops.
* :class:`RestorablePolicy`: it remembers earlier turns, and a restarted agent gives that
  memory back from its journal.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from chia.agent.envelope import Envelope
from chia.events import EventBase

__all__ = [
    "Action",
    "FinishTurn",
    "ManagedPolicy",
    "NullSink",
    "ObservedPolicy",
    "Policy",
    "PolicySink",
    "RestorablePolicy",
    "SendMessage",
    "SubmitResult",
    "TurnState",
    "Undelivered",
]


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SendMessage(_Action):
    """Send a message to an allowed peer."""

    action: Literal["send_message"] = "send_message"
    recipient: str
    content: str
    kind: Literal["chat"] = "chat"
    reply_requested: bool = True
    tldr: str = ""


class FinishTurn(_Action):
    """End this turn; the agent waits for the next message."""

    action: Literal["finish_turn"] = "finish_turn"
    reason: str = ""


class SubmitResult(_Action):
    """Submit the campaign's result; the campaign is complete."""

    action: Literal["submit_result"] = "submit_result"
    result: str


Action = Annotated[SendMessage | FinishTurn | SubmitResult, Field(discriminator="action")]


class Undelivered(BaseModel):
    """A message this agent sent in an earlier turn that did not reach its recipient."""

    model_config = ConfigDict(frozen=True)

    recipient: str
    round: int
    reason: str


class TurnState(BaseModel):
    """What a policy sees at the start of a turn."""

    model_config = ConfigDict(frozen=True)

    agent: str
    role: str
    mission: str
    task: str
    round: int
    allowed_peers: list[str]
    new_messages: list[Envelope]
    recent_messages: list[Envelope] = Field(
        default_factory=list, description="Earlier messages, oldest first (bounded)."
    )
    decisions: int = 0
    peer_status: dict[str, str] = Field(
        default_factory=dict, description="What the agent knows of each peer ('completed')."
    )
    undelivered: list[Undelivered] = Field(
        default_factory=list,
        description="Sends of earlier turns that failed, reported once (since the last turn).",
    )


class Policy(Protocol):
    """Decides one turn."""

    @property
    def name(self) -> str:
        """A short name for events (``scripted``, ``llm:<model>``)."""
        ...

    async def decide(self, state: TurnState) -> list[Action]:
        """Return the actions for this turn, in order."""
        ...


class PolicySink(Protocol):
    """Where a policy records what it did (the agent provides one)."""

    def emit(self, kind: type[EventBase], /, **fields: Any) -> object:
        """Append an event of ``kind`` to the agent's event log."""
        ...

    def add_tokens(self, tokens_in: int, tokens_out: int) -> None:
        """Add one model call's token counts to the agent's status."""
        ...


class NullSink:
    """A sink that records nothing: what a policy writes to before it is bound."""

    def emit(self, kind: type[EventBase], /, **fields: Any) -> object:
        """Drop the event."""
        return None

    def add_tokens(self, tokens_in: int, tokens_out: int) -> None:
        """Drop the counts."""
        return None


@runtime_checkable
class ObservedPolicy(Protocol):
    """A policy that records events and token counts through a sink."""

    def bind(self, sink: PolicySink) -> None:
        """Attach the sink; called once, before the first turn."""
        ...


@runtime_checkable
class ManagedPolicy(Protocol):
    """A policy holding resources that live as long as its agent."""

    async def start(self) -> None:
        """Start resources (e.g. MCP servers); called before the agent runs."""
        ...

    async def close(self) -> None:
        """Release every resource; called when the agent stops, also on failure."""
        ...


@runtime_checkable
class RestorablePolicy(Protocol):
    """A policy with memory across turns, rebuilt after a restart from the journal."""

    def restore(self, *, actions: list[dict[str, Any]], tool_results: list[dict[str, Any]]) -> None:
        """Take back the recent actions (oldest first) and tool results of earlier turns."""
        ...
