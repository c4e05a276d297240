"""The decision interface: a policy looks at an agent's state and returns actions.

The offline :class:`~chia.agent.scripted.ScriptedPolicy` and the LLM policy both implement
:class:`Policy`; the campaign agent executes whatever actions come back.
"""

from __future__ import annotations

from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from chia.agent.envelope import Envelope

__all__ = [
    "Action",
    "FinishTurn",
    "Policy",
    "SendMessage",
    "SubmitResult",
    "TurnState",
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


class Policy(Protocol):
    """Decides one turn."""

    @property
    def name(self) -> str:
        """A short name for events (``scripted``, ``llm:<model>``)."""
        ...

    async def decide(self, state: TurnState) -> list[Action]:
        """Return the actions for this turn, in order."""
        ...
