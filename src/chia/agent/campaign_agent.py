"""The campaign agent: an Academy agent that takes messages and runs decision turns.

Messages arrive through the ``receive_message`` action, which validates each, logs it (a
Lamport-stamped receive event) and queues it in the inbox before acknowledging: logging
before queueing keeps causal order, since any send a message causes comes after its receive
event. Once the host has seen every peer answer a ping
(:meth:`CampaignAgent.mark_running`), the ``take_turns`` loop drains the inbox one turn at
a time: the policy decides, the agent acts. State is
guarded by a lock because Academy runs actions concurrently. The agent stops on campaign
completion, after ``max_decisions`` turns, or after ``idle_timeout_s`` without a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from academy.agent import Agent, action, loop
from academy.handle import Handle
from academy.identifier import AgentId

from chia.agent.envelope import Envelope
from chia.agent.policy import (
    Action,
    FinishTurn,
    ObservedPolicy,
    Policy,
    SendMessage,
    SubmitResult,
    TurnState,
    Undelivered,
)
from chia.agent.status_book import StatusBook
from chia.campaign.model import AgentSpec, Limits
from chia.events import (
    AgentFailed,
    AgentFinished,
    AgentRunning,
    AgentState,
    AgentStatus,
    Decision,
    EventBase,
    EventWriter,
    MessageReceived,
    MessageRejected,
    MessageSent,
    ResultSubmitted,
)

__all__ = ["AgentSetup", "CampaignAgent", "FinishReason"]

log = logging.getLogger(__name__)

FinishReason = Literal["completed", "max_decisions", "idle_timeout", "stopped"]
_RECENT = 20
#: How often coalesced status counters reach ``status/<agent>.json``.
STATUS_PERIOD_S = 0.5


@dataclass
class AgentSetup:
    """Everything the host process hands a campaign agent."""

    run_id: str
    site: str
    spec: AgentSpec
    task: str
    limits: Limits
    uid: str
    peers: dict[str, AgentId[Any]]
    writer: EventWriter
    status_path: Path
    send_timeout_s: float = 60.0
    notify_timeout_s: float = 2.0
    rank: int | None = None
    landmark: Callable[[str], None] = field(default=lambda text: None)


class CampaignAgent(Agent):
    """One campaign agent. Construct it in its host process; it is never pickled.

    Args:
        setup: Identity, limits, peers and where to write events and status.
        policy: Decides each turn (scripted offline, or an LLM).
    """

    def __init__(self, setup: AgentSetup, policy: Policy) -> None:
        super().__init__()
        self.setup = setup
        self.policy = policy
        self._lock = asyncio.Lock()
        self._inbox: asyncio.Queue[Envelope] = asyncio.Queue()  # logged, waiting for a turn
        self._running = asyncio.Event()
        self._recent: deque[Envelope] = deque(maxlen=_RECENT)
        self._completed_peers: set[str] = set()
        self._undelivered: list[Undelivered] = []  # reported to the policy next turn
        initial = AgentStatus(
            run_id=setup.run_id,
            site=setup.site,
            agent=setup.spec.name,
            uid=setup.uid,
            state=AgentState.REGISTERED,
            host=socket.gethostname(),
            pid=os.getpid(),
            rank=setup.rank,
            updated=datetime.now(timezone.utc),
        )
        self._book = StatusBook(setup.status_path, initial)
        self.outcome: AgentState | None = None
        if isinstance(policy, ObservedPolicy):
            policy.bind(_AgentSink(self))

    # -- state -----------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The agent's campaign name."""
        return self.setup.spec.name

    def add_tokens(self, tokens_in: int, tokens_out: int) -> None:
        """Count one model call's tokens in the status."""
        self._book.bump("tokens_in", tokens_in)
        self._book.bump("tokens_out", tokens_out)

    def set_state(self, state: AgentState) -> None:
        """Record a lifecycle state (the host calls this while starting up)."""
        self._book.set(state=state)

    def mark_running(self) -> None:
        """Peers answered: start taking turns."""
        self.setup.writer.emit(AgentRunning)
        self._book.set(state=AgentState.RUNNING)
        self._running.set()

    # -- actions ---------------------------------------------------------------------

    @action
    async def receive_message(self, envelope: dict[str, Any]) -> dict[str, Any]:
        """Accept one message envelope (a JSON object): log it and queue it for a turn.

        Arrivals are on record at once, whether or not the agent is taking turns yet.

        Returns:
            ``{"accepted": true, "message_id": ...}``.

        Raises:
            ValueError: If the envelope is malformed or addressed to another agent.
        """
        message = Envelope.model_validate(envelope)
        if message.recipient != self.name:
            raise ValueError(f"message for {message.recipient!r} delivered to {self.name!r}")
        clock = self.setup.writer.clock.observe(message.clock)
        self.setup.writer.emit_trusted(
            MessageReceived, _message_fields(message, sender_site=message.sender_site), clock=clock
        )
        if self._book.bump("messages_received") == 1:
            self.setup.landmark(f"first message from {message.sender} ({message.kind})")
        self._inbox.put_nowait(message)
        return {"accepted": True, "message_id": message.message_id}

    @action
    async def status(self) -> dict[str, Any]:
        """Return this agent's status snapshot as JSON."""
        async with self._lock:
            return self._book.snapshot().model_dump(mode="json")

    @loop
    async def flush_status(self, shutdown: asyncio.Event) -> None:
        """Write coalesced status changes every ``STATUS_PERIOD_S``, and once at the end."""
        try:
            while not shutdown.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(shutdown.wait(), STATUS_PERIOD_S)
                self._book.flush()
        finally:
            self._book.flush()

    # -- the turn loop ---------------------------------------------------------------

    @loop
    async def take_turns(self, shutdown: asyncio.Event) -> None:
        """Wait until running, then run one decision turn per batch of messages."""
        try:
            await self._take_turns(shutdown)
        except Exception as exc:
            log.exception("agent %s failed", self.name)
            self.fail(f"{type(exc).__name__}: {exc}")

    async def _take_turns(self, shutdown: asyncio.Event) -> None:
        await self._running.wait()
        limits = self.setup.limits
        while not shutdown.is_set():
            try:
                batch = await asyncio.wait_for(self.next_messages(), limits.idle_timeout_s)
            except asyncio.TimeoutError:
                self._finish("idle_timeout")
                return
            completes = [m for m in batch if m.kind == "complete"]
            self._completed_peers.update(m.sender for m in completes)
            talk = [m for m in batch if m.kind != "complete"]
            if talk and await self._turn(talk):
                return
            if completes:
                self._finish("completed")
                return
            if self._book.count("decisions") >= limits.max_decisions:
                self._finish("max_decisions")
                return

    async def next_messages(self) -> list[Envelope]:
        """Wait for the next logged message; return it and every other one queued.

        This is one turn's batch; the turn loop is its consumer.
        """
        first = await self._inbox.get()
        return [first, *self.queued_messages()]

    def queued_messages(self) -> list[Envelope]:
        """Take every logged message queued now, without waiting (an empty list if none).

        The turn loop takes its batches through :meth:`next_messages`; whoever drives an
        agent that is not taking turns (a benchmark, a test) can empty its inbox with this.
        """
        batch = []
        while not self._inbox.empty():
            batch.append(self._inbox.get_nowait())
        return batch

    async def _turn(self, messages: list[Envelope]) -> bool:
        """Run one turn; return True when the agent is done."""
        async with self._lock:
            decisions = self._book.bump("decisions")
            state = TurnState(
                agent=self.name,
                role=self.setup.spec.role,
                mission=self.setup.spec.mission,
                task=self.setup.task,
                round=decisions,
                allowed_peers=list(self.setup.spec.allowed_peers),
                new_messages=messages,
                recent_messages=list(self._recent),
                decisions=decisions - 1,
                peer_status={
                    peer: "completed" if peer in self._completed_peers else "running"
                    for peer in self.setup.spec.allowed_peers
                },
                undelivered=self._undelivered,
            )
            self._recent.extend(messages)
            self._undelivered = []
        actions = await self.policy.decide(state)
        self.setup.writer.emit(
            Decision, round=decisions, policy=self.policy.name, actions=[a.action for a in actions]
        )
        for act in actions:
            if await self._execute(act, decisions):
                return True
        return False

    async def _execute(self, act: Action, round_: int) -> bool:
        if isinstance(act, SendMessage):
            await self._send(act, round_)
            return False
        if isinstance(act, SubmitResult):
            self.setup.writer.emit(ResultSubmitted, result=act.result)
            self._book.set(result=act.result)
            self.setup.landmark(f"submitted result: {act.result}")
            await self._notify_complete(act.result, round_)
            self._finish("completed")
            return True
        assert isinstance(act, FinishTurn)
        return False

    def _envelope(self, recipient: str, content: str, **fields: Any) -> Envelope:
        return Envelope(
            run_id=self.setup.run_id,
            sender=self.name,
            sender_site=self.setup.site,
            recipient=recipient,
            content=content,
            clock=self.setup.writer.clock.tick(),
            **fields,
        )

    async def _send(self, act: SendMessage, round_: int) -> bool:
        peer = self.setup.peers.get(act.recipient)
        if peer is None or act.recipient not in self.setup.spec.allowed_peers:
            reason = f"{act.recipient!r} is not an allowed peer of {self.name!r}"
            await self._undeliverable(act.recipient, round_, reason)
            return False
        envelope = self._envelope(
            act.recipient,
            act.content,
            kind=act.kind,
            reply_requested=act.reply_requested,
            tldr=act.tldr,
            round=round_,
        )
        self.setup.writer.emit_trusted(MessageSent, _message_fields(envelope), clock=envelope.clock)
        try:
            await asyncio.wait_for(
                Handle(peer).action("receive_message", envelope.model_dump(mode="json")),
                self.setup.send_timeout_s,
            )
        except Exception as exc:
            reason = f"delivery failed: {type(exc).__name__}: {exc}"
            await self._undeliverable(act.recipient, round_, reason)
            return False
        async with self._lock:
            self._book.bump("messages_sent")
        return True

    async def _undeliverable(self, recipient: str, round_: int, reason: str) -> None:
        """Record a send that did not happen, in the log and for the policy's next turn."""
        self.setup.writer.emit(MessageRejected, recipient=recipient, reason=reason)
        async with self._lock:
            self._undelivered.append(Undelivered(recipient=recipient, round=round_, reason=reason))

    async def _notify_complete(self, result: str, round_: int) -> None:
        """Tell peers that have not completed themselves that the campaign is done."""

        async def notify(name: str, peer: AgentId[Any]) -> None:
            envelope = self._envelope(name, result, kind="complete", round=round_)
            try:
                await asyncio.wait_for(
                    Handle(peer).action("receive_message", envelope.model_dump(mode="json")),
                    self.setup.notify_timeout_s,
                )
            except Exception:  # a peer that already stopped needs no notice
                log.debug("completion notice to %s not delivered", name)

        await asyncio.gather(
            *(
                notify(name, peer)
                for name, peer in self.setup.peers.items()
                if name not in self._completed_peers
            )
        )

    # -- endings ---------------------------------------------------------------------

    def _finish(self, reason: FinishReason) -> None:
        if self.outcome is not None:
            return
        self.setup.writer.emit(
            AgentFinished, reason=reason, decisions=self._book.count("decisions")
        )
        self._book.set(state=AgentState.FINISHED)
        self.outcome = AgentState.FINISHED
        self.setup.landmark(f"finished ({reason}, {self._book.count('decisions')} decisions)")
        self.agent_shutdown()

    def fail(self, error: str) -> None:
        """Record a failure (e.g. peers never answered) and shut the agent down."""
        if self.outcome is not None:
            return
        self.setup.writer.emit(AgentFailed, error=error)
        self._book.set(state=AgentState.FAILED, last_error=error)
        self.outcome = AgentState.FAILED
        self.setup.landmark(f"failed: {error}")
        self.agent_shutdown()

    def stop(self) -> None:
        """Stop on request (Ctrl-C or SIGTERM on the site): record and shut down."""
        if self.outcome is None:
            self._finish("stopped")


def _message_fields(envelope: Envelope, **extra: Any) -> dict[str, Any]:
    """A message event's own fields, copied from a validated envelope."""
    return {
        "message_id": envelope.message_id,
        "sender": envelope.sender,
        "recipient": envelope.recipient,
        "message_kind": envelope.kind,
        "round": envelope.round,
        "tldr": envelope.tldr,
        "content": envelope.content,
        "reply_requested": envelope.reply_requested,
        **extra,
    }


class _AgentSink:
    """The sink a policy records through: the agent's event log and status counters."""

    def __init__(self, agent: CampaignAgent) -> None:
        self._agent = agent

    def emit(self, kind: type[EventBase], /, **fields: Any) -> object:
        return self._agent.setup.writer.emit(kind, **fields)

    def add_tokens(self, tokens_in: int, tokens_out: int) -> None:
        self._agent.add_tokens(tokens_in, tokens_out)
