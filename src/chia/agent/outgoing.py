"""What an agent sends: a turn's commit, background delivery, and how each delivery ended.

A turn's sends, its submitted result and its ``decision`` event go out in one write
(:meth:`Outgoing.commit_turn`); only then does the :class:`~chia.agent.delivery.Outbox`
start delivering them. Every delivery ends as a ``message_acked`` event, or a
``message_undelivered`` one (reported to the policy's next turn unless the recipient
completed the campaign and needed it no more).
"""

from __future__ import annotations

from typing import Any

from chia.agent.delivery import Outbox, Outcome
from chia.agent.envelope import Envelope
from chia.agent.journal import Journal
from chia.agent.policy import Action, SendMessage, SubmitResult, Undelivered
from chia.agent.setup import AgentSetup
from chia.agent.status_book import StatusBook
from chia.events import (
    Decision,
    MessageAcked,
    MessageRejected,
    MessageSent,
    MessageUndelivered,
    ResultSubmitted,
)

__all__ = ["Outgoing", "message_fields"]


class Outgoing:
    """An agent's outgoing side: commits turns, delivers them, records the outcomes.

    Args:
        setup: The agent's identity, peers, writer and delivery policy.
        book: Its status counters.
        journal: What it had committed before a restart (completed peers, failures not
            reported yet).
    """

    def __init__(self, setup: AgentSetup, book: StatusBook, journal: Journal) -> None:
        self.setup = setup
        self._book = book
        self.completed_peers: set[str] = set(journal.completed_peers)
        self._undelivered: list[Undelivered] = list(journal.undelivered)
        self.outbox = Outbox(setup.delivery, self._delivered, still_needed=self._needs_messages)

    @property
    def name(self) -> str:
        """The sending agent's name."""
        return self.setup.spec.name

    def take_undelivered(self) -> list[Undelivered]:
        """The failed sends not reported yet, once (for the next turn's state)."""
        failed, self._undelivered = self._undelivered, []
        return failed

    def send(self, envelopes: list[Envelope]) -> None:
        """Deliver committed envelopes in the background."""
        for envelope in envelopes:
            self.outbox.submit(envelope)

    def commit_turn(
        self, round_: int, policy: str, consumed: list[Envelope], actions: list[Action]
    ) -> tuple[list[Envelope], str | None]:
        """Write the turn's sends, result and decision in one append; return what to send.

        Actions after a submitted result are not carried out. A killed process leaves the
        whole turn on record or none of it (then its messages are decided again).
        """
        writer = self.setup.writer
        sends: list[Envelope] = []
        result: str | None = None
        done: list[Action] = []
        with writer.atomic():
            for act in actions:
                done.append(act)
                if isinstance(act, SendMessage):
                    envelope = self._outgoing(act, round_)
                    if envelope is not None:
                        sends.append(envelope)
                elif isinstance(act, SubmitResult):
                    result = act.result
                    writer.emit(ResultSubmitted, result=result)
                    sends += [
                        self._envelope(peer, result, kind="complete", round=round_)
                        for peer in self.setup.peers
                        if peer not in self.completed_peers
                    ]
                    break
            for envelope in sends:
                writer.emit_trusted(MessageSent, message_fields(envelope), clock=envelope.clock)
            writer.emit(
                Decision,
                round=round_,
                policy=policy,
                actions=[a.action for a in done],
                consumed=[m.message_id for m in consumed],
                sent=[e.message_id for e in sends],
                details=[a.model_dump(mode="json") for a in done],
            )
        return sends, result

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

    def _outgoing(self, act: SendMessage, round_: int) -> Envelope | None:
        """The envelope of an allowed send, or None (the refusal is on record)."""
        if (
            act.recipient not in self.setup.peers
            or act.recipient not in self.setup.spec.allowed_peers
        ):
            reason = f"{act.recipient!r} is not an allowed peer of {self.name!r}"
            self.setup.writer.emit(MessageRejected, recipient=act.recipient, reason=reason)
            self._undelivered.append(
                Undelivered(recipient=act.recipient, round=round_, reason=reason)
            )
            return None
        return self._envelope(
            act.recipient,
            act.content,
            kind=act.kind,
            reply_requested=act.reply_requested,
            tldr=act.tldr,
            round=round_,
        )

    def _needs_messages(self, peer: str) -> bool:
        """A peer that completed the campaign needs nothing more from us."""
        return peer not in self.completed_peers

    async def _delivered(self, envelope: Envelope, outcome: Outcome) -> None:
        """Record how a delivery ended; a failure is reported to the next turn."""
        writer = self.setup.writer
        if outcome.acked:
            writer.emit(
                MessageAcked,
                message_id=envelope.message_id,
                recipient=envelope.recipient,
                attempts=outcome.attempts,
            )
            self._book.bump("messages_acked")
            return
        writer.emit(
            MessageUndelivered,
            message_id=envelope.message_id,
            recipient=envelope.recipient,
            attempts=outcome.attempts,
            reason=outcome.reason,
        )
        if outcome.moot:  # settled: the recipient completed and needs it no more
            return
        self._book.bump("undelivered")
        self.setup.landmark(f"message to {envelope.recipient} undelivered: {outcome.reason}")
        self._undelivered.append(
            Undelivered(recipient=envelope.recipient, round=envelope.round, reason=outcome.reason)
        )


def message_fields(envelope: Envelope, **extra: Any) -> dict[str, Any]:
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
