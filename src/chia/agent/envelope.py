"""The message envelope agents exchange: plain JSON, validated on receipt."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from chia.names import NAME_PATTERN, random_id

__all__ = ["KICKOFF_SENDER", "Envelope", "MessageKind"]

#: The sender name of the campaign's kickoff message (not an agent).
KICKOFF_SENDER = "campaign"

#: ``kickoff`` starts the campaign; ``chat`` is agent talk; ``complete`` tells peers the
#: campaign's result was submitted, so they stop.
MessageKind = Literal["kickoff", "chat", "complete"]


class Envelope(BaseModel):
    """One message between agents (or from the bootstrap to the initial agent)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    message_id: str = Field(default_factory=random_id)
    run_id: str
    sender: str
    sender_site: str | None = None
    recipient: str = Field(pattern=NAME_PATTERN)
    kind: MessageKind = "chat"
    content: str = Field(max_length=256_000)
    reply_requested: bool = False
    round: int = Field(0, ge=0)
    tldr: str = Field("", max_length=200)
    clock: int = Field(0, ge=0, description="The sender's Lamport clock at send time.")
