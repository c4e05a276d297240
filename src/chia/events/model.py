"""Every event kind chia writes, as one discriminated union.

Each kind is a frozen pydantic model with a ``kind`` literal; an event whose kind is not
declared here cannot be constructed or parsed. All events carry the schema version, a
unique id, a UTC timestamp, the run, site and agent (the writer), and a Lamport ``clock``
so a merged multi-site timeline is causally ordered even when site clocks disagree.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from chia.finish import FinishReason
from chia.names import random_id

__all__ = [
    "EVENT_KINDS",
    "SCHEMA_VERSION",
    "AgentFailed",
    "AgentFinished",
    "AgentGaveUp",
    "AgentRegistered",
    "AgentRestarted",
    "AgentRunning",
    "BootstrapDispatched",
    "BootstrapSkipped",
    "ClockSkew",
    "Decision",
    "Event",
    "EventBase",
    "ExchangeLost",
    "ExchangeRestored",
    "LLMCall",
    "MessageAcked",
    "MessageReceived",
    "MessageRejected",
    "MessageSent",
    "MessageUndelivered",
    "ModelError",
    "ModelRetry",
    "Note",
    "PeersUp",
    "PeersWaiting",
    "ReplayDiverged",
    "ResultSubmitted",
    "SiteFinished",
    "SiteStarted",
    "ToolCall",
    "ToolResult",
    "parse_event",
]

#: The version of the event schema written by this chia (bumped on incompatible change).
SCHEMA_VERSION: Literal[1] = 1


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class EventBase(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1] = SCHEMA_VERSION
    event_id: str = Field(default_factory=random_id)
    timestamp: AwareDatetime = Field(default_factory=_utc_now)
    run_id: str
    site: str
    agent: str = Field(description="The writer: an agent name, or the site's own writer.")
    clock: int = Field(ge=0, description="Lamport clock of the writer.")


class SiteStarted(EventBase):
    """A site launched its slice of agents."""

    kind: Literal["site_started"] = "site_started"
    launcher: str
    agents: list[str]
    exchange: str
    host: str
    resumed: bool = Field(False, description="spawn-site --resume: rejoining a running campaign.")


class SiteFinished(EventBase):
    """Every agent of a site's slice has stopped."""

    kind: Literal["site_finished"] = "site_finished"
    status: Literal["finished", "failed", "interrupted"]
    failed_agents: list[str] = Field(default_factory=list)
    reasons: dict[str, str] = Field(
        default_factory=dict, description="Why each failed agent did not finish the campaign."
    )


class AgentRegistered(EventBase):
    """An agent's mailbox exists on the exchange under its deterministic uid."""

    kind: Literal["agent_registered"] = "agent_registered"
    uid: str
    exchange: str
    host: str
    pid: int
    rank: int | None = None


class PeersWaiting(EventBase):
    """An agent started waiting for its peers to answer pings."""

    kind: Literal["peers_waiting"] = "peers_waiting"
    peers: list[str]
    timeout_s: float


class PeersUp(EventBase):
    """Every peer an agent may talk to answered a ping."""

    kind: Literal["peers_up"] = "peers_up"
    peers: list[str]
    waited_s: float


class AgentRunning(EventBase):
    """An agent is listening for messages."""

    kind: Literal["agent_running"] = "agent_running"


class BootstrapDispatched(EventBase):
    """The kickoff message was sent to the initial agent."""

    kind: Literal["bootstrap_dispatched"] = "bootstrap_dispatched"
    recipient: str
    message_id: str


class BootstrapSkipped(EventBase):
    """A site did not send the kickoff, and why (flag, or initial agent elsewhere)."""

    kind: Literal["bootstrap_skipped"] = "bootstrap_skipped"
    reason: str


class _MessageFields(EventBase):
    message_id: str
    sender: str
    recipient: str
    message_kind: str
    round: int = Field(ge=0)
    tldr: str = ""
    content: str = ""
    reply_requested: bool = False
    recipient_site: str | None = None


class MessageSent(_MessageFields):
    """An agent sent a message."""

    kind: Literal["message_sent"] = "message_sent"


class MessageReceived(_MessageFields):
    """An agent received a message."""

    kind: Literal["message_received"] = "message_received"
    sender_site: str | None = None


class MessageAcked(EventBase):
    """The recipient acknowledged a message: its receive event is on disk there."""

    kind: Literal["message_acked"] = "message_acked"
    message_id: str
    recipient: str
    attempts: int = Field(1, ge=1)


class MessageUndelivered(EventBase):
    """A message was never acknowledged before its delivery deadline."""

    kind: Literal["message_undelivered"] = "message_undelivered"
    message_id: str
    recipient: str
    attempts: int = Field(ge=0)
    reason: str


class MessageRejected(EventBase):
    """A send was refused before it left (recipient not allowed, bad arguments)."""

    kind: Literal["message_rejected"] = "message_rejected"
    recipient: str
    reason: str


class Decision(EventBase):
    """One decision turn and the actions it produced."""

    kind: Literal["decision"] = "decision"
    round: int = Field(ge=0)
    policy: str
    actions: list[str]
    consumed: list[str] = Field(
        default_factory=list, description="Ids of the messages this turn decided on."
    )
    sent: list[str] = Field(
        default_factory=list, description="Ids of the messages this turn sent (committed)."
    )
    details: list[dict[str, Any]] = Field(
        default_factory=list, description="The actions in full, for recovery and replay."
    )


class LLMCall(EventBase):
    """One call to a language model."""

    kind: Literal["llm_call"] = "llm_call"
    provider: str
    model: str
    tokens_in: int = Field(0, ge=0)
    tokens_out: int = Field(0, ge=0)
    tokens_cached: int = Field(
        0, ge=0, description="Prompt tokens served from the provider's cache (in tokens_in)."
    )
    cost_usd: float | None = Field(
        None, ge=0, description="What the call cost (None: no price for the model)."
    )
    cost_note: str | None = Field(None, description="Where the price came from, or why none.")
    latency_s: float = Field(ge=0)
    success: bool = True
    error: str | None = None
    request_digest: str | None = Field(
        None, description="Digest of the request (messages, tools, settings) for replay."
    )


class ModelRetry(EventBase):
    """A model call failed in a way worth retrying; chia waits, then calls again."""

    kind: Literal["model_retry"] = "model_retry"
    provider: str
    error_kind: str = Field(description="rate_limit, server or timeout.")
    status: int | None = None
    attempt: int = Field(ge=1)
    limit: int = Field(ge=0)
    wait_s: float = Field(ge=0)
    retry_after_s: float | None = Field(None, description="What the provider's Retry-After said.")
    error: str = ""


class ModelError(EventBase):
    """A model call failed for good, and what the agent did about it."""

    kind: Literal["model_error"] = "model_error"
    provider: str
    model: str
    error_kind: str = Field(description="auth, quota, context_length, rate_limit, server...")
    status: int | None = None
    action: Literal["stopped_agent", "trimmed_history", "ended_turn"]
    hint: str | None = Field(None, description="What to do (e.g. the variable to set).")
    error: str = ""


class ToolCall(EventBase):
    """A tool was called (built-in or MCP)."""

    kind: Literal["tool_call"] = "tool_call"
    tool: str
    call_id: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ToolResult(EventBase):
    """A tool call returned."""

    kind: Literal["tool_result"] = "tool_result"
    tool: str
    call_id: str
    ok: bool
    output: str = ""


class ResultSubmitted(EventBase):
    """An agent submitted the campaign's result."""

    kind: Literal["result_submitted"] = "result_submitted"
    result: str


class AgentFinished(EventBase):
    """An agent stopped normally, and why."""

    kind: Literal["agent_finished"] = "agent_finished"
    reason: FinishReason
    decisions: int = Field(ge=0)


class AgentFailed(EventBase):
    """An agent stopped on an error."""

    kind: Literal["agent_failed"] = "agent_failed"
    error: str


class AgentRestarted(EventBase):
    """An agent came back after its process died, its state rebuilt from this log."""

    kind: Literal["agent_restarted"] = "agent_restarted"
    restart: int = Field(ge=1, description="1 for the first restart.")
    cause: str = Field(description="How the last incarnation ended, e.g. 'signal 9'.")
    replayed_events: int = Field(0, ge=0)
    pending_messages: int = Field(0, ge=0, description="Received, not yet decided.")
    pending_sends: int = Field(0, ge=0, description="Sent, not yet acknowledged.")


class AgentGaveUp(EventBase):
    """The site stopped restarting an agent: its restart budget is spent."""

    kind: Literal["agent_gave_up"] = "agent_gave_up"
    restarts: int = Field(ge=0)
    cause: str


class ExchangeLost(EventBase):
    """The exchange stopped answering; the writer keeps retrying."""

    kind: Literal["exchange_lost"] = "exchange_lost"
    error: str


class ExchangeRestored(EventBase):
    """The exchange answers again after a loss."""

    kind: Literal["exchange_restored"] = "exchange_restored"
    down_s: float = Field(ge=0)


class ReplayDiverged(EventBase):
    """A replayed model call asked something the recording never answered."""

    kind: Literal["replay_diverged"] = "replay_diverged"
    round: int = Field(ge=0)
    request_digest: str
    diff: str


class ClockSkew(EventBase):
    """The site's wall clock disagrees with the exchange's by more than the threshold."""

    kind: Literal["clock_skew"] = "clock_skew"
    offset_s: float = Field(description="The exchange's time minus the site's.")
    reference: str = Field(description="What was asked: the exchange's URL or address.")
    uncertainty_s: float = Field(ge=0, description="How far off the measurement may be.")
    threshold_s: float = Field(gt=0)


class Note(EventBase):
    """A free-text landmark for operators."""

    kind: Literal["note"] = "note"
    level: Literal["info", "warning", "error"] = "info"
    message: str


Event: TypeAlias = Annotated[
    SiteStarted
    | SiteFinished
    | AgentRegistered
    | PeersWaiting
    | PeersUp
    | AgentRunning
    | BootstrapDispatched
    | BootstrapSkipped
    | MessageSent
    | MessageReceived
    | MessageAcked
    | MessageUndelivered
    | MessageRejected
    | Decision
    | LLMCall
    | ModelRetry
    | ModelError
    | ToolCall
    | ToolResult
    | ResultSubmitted
    | AgentFinished
    | AgentFailed
    | AgentRestarted
    | AgentGaveUp
    | ExchangeLost
    | ExchangeRestored
    | ReplayDiverged
    | ClockSkew
    | Note,
    Field(discriminator="kind"),
]

_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

#: Every declared event class, by kind (read off the union, so the two cannot drift).
EVENT_KINDS: dict[str, type[EventBase]] = {
    cls.model_fields["kind"].default: cls for cls in get_args(get_args(Event)[0])
}


def parse_event(line: str | bytes) -> Event:
    """Parse one JSON line into its event model.

    Raises:
        pydantic.ValidationError: For malformed JSON, an undeclared kind or bad fields.
    """
    return _ADAPTER.validate_json(line)
