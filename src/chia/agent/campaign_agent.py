"""The campaign agent: an Academy agent that takes messages and runs decision turns.

Messages arrive through the ``receive_message`` action under the delivery contract
(:mod:`chia.agent.delivery`): each is validated, logged once (a Lamport-stamped receive
event), queued in the inbox, and acknowledged only once its receive event is on disk;
a message id seen before is acknowledged and dropped. Once the host has seen every peer
answer a ping (:meth:`CampaignAgent.mark_running`), the ``take_turns`` loop drains the
inbox one turn at a time: the policy decides, and the turn's sends and its decision are
committed in one write before the outbox delivers the sends in the background. State is
guarded by a lock because Academy runs actions concurrently. The agent stops on campaign
completion, after ``max_decisions`` turns, or after ``idle_timeout_s`` without a message,
once every committed send has been acknowledged (or given up on).

A restarted agent starts from its :class:`~chia.agent.journal.Journal`: the undecided
messages are back in the inbox, unacknowledged sends are sent again, counters, history,
completed peers and the policy's memory are as they were.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections import deque
from datetime import datetime, timezone
from typing import Any

from academy.agent import Agent, action, loop
from academy.exception import AgentNotInitializedError

from chia.agent.delivery import Receiver
from chia.agent.envelope import Envelope
from chia.agent.journal import Journal
from chia.agent.outgoing import Outgoing, message_fields
from chia.agent.policy import ObservedPolicy, Policy, RestorablePolicy, TurnState
from chia.agent.setup import AgentSetup
from chia.agent.status_book import StatusBook
from chia.errors import ChiaError
from chia.events import (
    AgentFailed,
    AgentFinished,
    AgentRunning,
    AgentState,
    AgentStatus,
    EventBase,
    MessageReceived,
)
from chia.events.durability import GroupCommit
from chia.finish import FinishReason

__all__ = ["AgentSetup", "CampaignAgent"]

log = logging.getLogger(__name__)

_RECENT = 20
#: How often coalesced status counters reach ``status/<agent>.json``.
STATUS_PERIOD_S = 0.5


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
        journal = setup.journal or Journal(setup.writer.path)
        self._lock = asyncio.Lock()
        self._inbox: asyncio.Queue[Envelope] = asyncio.Queue()  # logged, waiting for a turn
        for message in journal.undecided:
            self._inbox.put_nowait(message)
        self._running = asyncio.Event()
        self._recent: deque[Envelope] = deque(journal.recent, maxlen=_RECENT)
        self._resend = list(journal.unacked)
        self._result = journal.result
        initial = AgentStatus(
            run_id=setup.run_id,
            site=setup.site,
            agent=setup.spec.name,
            uid=setup.uid,
            state=AgentState.REGISTERED,
            host=socket.gethostname(),
            pid=os.getpid(),
            rank=setup.rank,
            restarts=journal.restarts,
            result=journal.result,
            updated=datetime.now(timezone.utc),
            **journal.counts,
        )
        self._book = StatusBook(setup.status_path, initial)
        self._receiver = Receiver(
            setup.spec.name,
            self._log_received,
            GroupCommit(setup.writer, setup.fsync),
            seen=journal.seen,
        )
        self._out = Outgoing(setup, self._book, journal)
        self.outcome: AgentState | None = None
        #: The host's exit code if the agent fails: 1 (a restart may help), or the code of
        #: a failure chia named (2: bad input, e.g. a replay that diverged; not restarted).
        self.exit_code = 1
        if isinstance(policy, ObservedPolicy):
            policy.bind(_AgentSink(self))
        if isinstance(policy, RestorablePolicy) and not journal.is_new:
            policy.restore(actions=journal.actions, tool_results=journal.tool_results)

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
        """Accept one message envelope (a JSON object): log it once and queue it for a turn.

        Arrivals are on record at once, whether or not the agent is taking turns yet; the
        answer comes only once the receive event is on disk. A message id seen before
        is acknowledged again and dropped.

        Returns:
            ``{"accepted": true, "message_id": ..., "duplicate": ...}``.

        Raises:
            ValueError: If the envelope is malformed or addressed to another agent.
        """
        ack = await self._receiver.accept(envelope)
        if ack.duplicate:
            self._book.bump("duplicates_dropped")
        return ack.as_json()

    def _log_received(self, message: Envelope) -> None:
        """Record a new message (receive event, counters) and queue it for a turn."""
        clock = self.setup.writer.clock.observe(message.clock)
        self.setup.writer.emit_trusted(
            MessageReceived, message_fields(message, sender_site=message.sender_site), clock=clock
        )
        if message.kind == "complete":
            self._out.completed_peers.add(message.sender)
        if self._book.bump("messages_received") == 1:
            self.setup.landmark(f"first message from {message.sender} ({message.kind})")
        self._inbox.put_nowait(message)

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
            await self._running.wait()
            self._out.send(self._resend)  # committed before a restart, never acknowledged
            self._resend = []
            # A result submitted before a restart leaves only its notices to deliver.
            reason = "completed" if self._result is not None else await self._play(shutdown)
            if reason is None:
                return
            await self._out.outbox.drain()
            self._finish(reason)
        except ChiaError as exc:  # a failure chia named (a replay that diverged): final
            self.exit_code = exc.exit_code
            self.fail(str(exc))
        except Exception as exc:
            log.exception("agent %s failed", self.name)
            self.fail(f"{type(exc).__name__}: {exc}")

    async def _play(self, shutdown: asyncio.Event) -> FinishReason | None:
        """Take turns until a stopping rule holds; return which (None on shutdown)."""
        limits = self.setup.limits
        while not shutdown.is_set():
            try:
                batch = await asyncio.wait_for(self.next_messages(), limits.idle_timeout_s)
            except asyncio.TimeoutError:
                return "idle_timeout"
            completes = [m for m in batch if m.kind == "complete"]
            self._out.completed_peers.update(m.sender for m in completes)
            talk = [m for m in batch if m.kind != "complete"]
            if talk and await self._turn(talk):
                return "completed"
            if completes:
                if self._result is None:  # a peer submitted it: the campaign's result
                    self._book.set(result=completes[0].content)
                return "completed"
            if self._book.count("decisions") >= limits.max_decisions:
                return "max_decisions"
        return None

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
        """Run one turn; return True when the agent submitted the campaign's result."""
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
                    peer: "completed" if peer in self._out.completed_peers else "running"
                    for peer in self.setup.spec.allowed_peers
                },
                undelivered=self._out.take_undelivered(),
            )
            self._recent.extend(messages)
        actions = await self.policy.decide(state)
        sends, result = self._out.commit_turn(decisions, self.policy.name, messages, actions)
        self._book.bump("messages_sent", sum(e.kind != "complete" for e in sends))
        self._out.send(sends)
        if result is not None:
            self._result = result
            self._book.set(result=result)
            self.setup.landmark(f"submitted result: {result}")
        return result is not None

    # -- endings ---------------------------------------------------------------------

    def _finish(self, reason: FinishReason) -> None:
        if self.outcome is not None:
            return
        self.setup.writer.emit(
            AgentFinished, reason=reason, decisions=self._book.count("decisions")
        )
        self._book.set(state=AgentState.FINISHED, finish_reason=reason)
        self.outcome = AgentState.FINISHED
        self.setup.landmark(f"finished ({reason}, {self._book.count('decisions')} decisions)")
        self._shutdown()

    def fail(self, error: str) -> None:
        """Record a failure (e.g. peers never answered) and shut the agent down."""
        if self.outcome is not None:
            return
        self._out.outbox.cancel()  # what is unacknowledged stays in the journal for a restart
        self.setup.writer.emit(AgentFailed, error=error)
        self._book.set(state=AgentState.FAILED, last_error=error)
        self.outcome = AgentState.FAILED
        self.setup.landmark(f"failed: {error}")
        self._shutdown()

    def _shutdown(self) -> None:
        """Ask the runtime to shut the agent down; before the runtime ran there is none."""
        with contextlib.suppress(AgentNotInitializedError):
            self.agent_shutdown()

    def stop(self) -> None:
        """Stop on request (Ctrl-C or SIGTERM on the site): record and shut down.

        Sends still in flight stay unacknowledged in the journal; a resume sends them.
        """
        if self.outcome is None:
            self._out.outbox.cancel()
            self._finish("stopped")


class _AgentSink:
    """The sink a policy records through: the agent's event log and status counters."""

    def __init__(self, agent: CampaignAgent) -> None:
        self._agent = agent

    def emit(self, kind: type[EventBase], /, **fields: Any) -> object:
        return self._agent.setup.writer.emit(kind, **fields)

    def add_tokens(self, tokens_in: int, tokens_out: int) -> None:
        self._agent.add_tokens(tokens_in, tokens_out)

    def landmark(self, line: str) -> None:
        """One operator line in the agent's output (a model retry, a trimmed history)."""
        self._agent.setup.landmark(line)
