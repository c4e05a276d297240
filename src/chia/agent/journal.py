"""An agent's events file is its journal: recovery rebuilds the agent's state from it.

Event sourcing: nothing about an agent's progress lives anywhere but
``events/<agent>.jsonl``, which only that agent appends to. A restarted agent (its
process was killed, its site was resumed) reads the file back with :func:`recover` and
continues from a :class:`Journal`:

* the Lamport clock (the largest clock written, so it never goes backwards);
* decisions made, and the messages they decided on (``decision.consumed``);
* the messages received but not yet decided: they go back into the inbox;
* the messages sent and committed (``decision.sent``) but never acknowledged
  (``message_acked``) nor given up on (``message_undelivered``): they are sent again,
  with the same message ids, so a receiver that already has them drops the copies;
* every message id received (the receiver's dedupe set), recent history, peers that
  completed, the submitted result, token counts, sends reported undelivered since the
  last decision, and the LLM policy's memory of earlier turns (actions and tool results).

A turn's sends and its decision are written in one ``write`` (see
:meth:`chia.events.EventWriter.atomic`), so a killed process leaves a whole turn or none.
A torn last line (a write cut short by the loss of the machine) is dropped and cut off
the file, so new lines start on a line of their own; any other unreadable line is an
error naming the file and line.
"""

from __future__ import annotations

import os
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chia.agent.envelope import Envelope
from chia.agent.policy import Undelivered
from chia.errors import ChiaUsageError
from chia.events import (
    AgentFinished,
    AgentRestarted,
    BootstrapDispatched,
    Decision,
    Event,
    LLMCall,
    MessageAcked,
    MessageReceived,
    MessageRejected,
    MessageSent,
    MessageUndelivered,
    ResultSubmitted,
    ToolResult,
    parse_event,
)
from chia.finish import FINAL_REASONS

__all__ = ["Journal", "JournalError", "read_journal", "recover"]

_RECENT = 20
_HISTORY = 10


class JournalError(ChiaUsageError):
    """An events file that cannot be read back (a corrupt line, not a torn tail)."""


@dataclass
class Journal:
    """What an agent's events file says about it. Empty for a new agent."""

    path: Path
    events: int = 0
    clock: int = 0
    decisions: int = 0
    seen: set[str] = field(default_factory=set)
    undecided: list[Envelope] = field(default_factory=list)
    unacked: list[Envelope] = field(default_factory=list)
    recent: list[Envelope] = field(default_factory=list)
    completed_peers: set[str] = field(default_factory=set)
    undelivered: list[Undelivered] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    restarts: int = 0
    bootstrapped: bool = False
    result: str | None = None
    finished: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    tool_results: list[dict[str, Any]] = field(default_factory=list)
    torn_tail: bool = False

    @property
    def is_new(self) -> bool:
        """True when the file held no event (a first start)."""
        return self.events == 0

    @property
    def done(self) -> bool:
        """True when the agent had already stopped for good (nothing to resume)."""
        return self.finished in FINAL_REASONS


def _received(event: MessageReceived) -> Envelope:
    return Envelope(
        message_id=event.message_id,
        run_id=event.run_id,
        sender=event.sender,
        sender_site=event.sender_site,
        recipient=event.recipient,
        kind=event.message_kind,  # validated by Envelope
        content=event.content,
        reply_requested=event.reply_requested,
        round=event.round,
        tldr=event.tldr,
    )


def _sent(event: MessageSent) -> Envelope:
    return Envelope(
        message_id=event.message_id,
        run_id=event.run_id,
        sender=event.sender,
        sender_site=event.site,
        recipient=event.recipient,
        kind=event.message_kind,
        content=event.content,
        reply_requested=event.reply_requested,
        round=event.round,
        tldr=event.tldr,
        clock=event.clock,
    )


def read_journal(path: Path, *, repair: bool = False) -> tuple[list[Event], bool]:
    """Parse every event of ``path``; drop (and with ``repair``, cut off) a torn tail.

    Returns:
        The events, and whether the file ended in a torn (partial) line.

    Raises:
        JournalError: For a complete line that is not a valid event (file and line named).
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], False
    complete, newline, tail = data.rpartition(b"\n")
    if not newline:
        complete, tail = b"", data
    if tail and repair:
        os.truncate(path, len(complete) + (1 if newline else 0))
    events: list[Event] = []
    for number, raw in enumerate(complete.split(b"\n") if newline else [], start=1):
        if not raw.strip():
            continue
        try:
            events.append(parse_event(raw))
        except ValidationError as exc:
            raise JournalError(
                f"{path}:{number}: not a valid event ({_problem(exc)}); the file is corrupt: "
                "restore it or start a new run id"
            ) from None
    return events, bool(tail)


def _problem(exc: ValidationError) -> str:
    """The first thing wrong with a line, in a few words."""
    first = exc.errors()[0]
    if first["type"] == "union_tag_invalid":
        return f"unknown event kind {first.get('ctx', {}).get('tag')!r}"
    where = ".".join(str(part) for part in first["loc"])
    message = first["msg"] if len(first["msg"]) <= 120 else first["msg"][:117] + "..."
    return f"{where}: {message}" if where else message


def recover(path: Path, *, repair: bool = True) -> Journal:
    """Rebuild an agent's state from its events file (see the module docstring).

    Args:
        path: ``events/<agent>.jsonl``; a missing file is a new agent.
        repair: Cut a torn last line off the file, so appends start on a fresh line.

    Raises:
        JournalError: If a line other than a torn last one cannot be read.
    """
    journal = Journal(path)
    events, journal.torn_tail = read_journal(path, repair=repair)
    received: dict[str, Envelope] = {}
    sent: dict[str, Envelope] = {}
    committed: set[str] = set()
    consumed: set[str] = set()
    settled: set[str] = set()
    recent: deque[Envelope] = deque(maxlen=_RECENT)
    actions: deque[dict[str, Any]] = deque(maxlen=_HISTORY)
    tool_results: deque[dict[str, Any]] = deque(maxlen=_HISTORY)
    counts = {"tokens_in": 0, "tokens_out": 0, "messages_acked": 0, "undelivered": 0}
    for event in events:
        journal.clock = max(journal.clock, event.clock)
        if isinstance(event, MessageReceived):
            envelope = received.setdefault(event.message_id, _received(event))
            if envelope.kind == "complete":
                journal.completed_peers.add(envelope.sender)
        elif isinstance(event, MessageSent):
            sent[event.message_id] = _sent(event)
        elif isinstance(event, Decision):
            journal.decisions += 1
            consumed.update(event.consumed)
            committed.update(event.sent)
            recent.extend(received[i] for i in event.consumed if i in received)
            actions.extend(event.details)
            journal.undelivered = []
        elif isinstance(event, MessageAcked):
            settled.add(event.message_id)
            counts["messages_acked"] += 1
        elif isinstance(event, MessageUndelivered):
            settled.add(event.message_id)
            counts["undelivered"] += 1
            journal.undelivered.append(
                Undelivered(recipient=event.recipient, round=journal.decisions, reason=event.reason)
            )
        elif isinstance(event, MessageRejected):
            journal.undelivered.append(
                Undelivered(recipient=event.recipient, round=journal.decisions, reason=event.reason)
            )
        elif isinstance(event, LLMCall):
            counts["tokens_in"] += event.tokens_in
            counts["tokens_out"] += event.tokens_out
        elif isinstance(event, ToolResult) and "." in event.tool:  # MCP tools are qualified
            tool_results.append({"tool": event.tool, "ok": event.ok, "output": event.output})
        elif isinstance(event, ResultSubmitted):
            journal.result = event.result
        elif isinstance(event, BootstrapDispatched):
            journal.bootstrapped = True
        elif isinstance(event, AgentRestarted):
            journal.restarts = max(journal.restarts, event.restart)
        elif isinstance(event, AgentFinished):
            journal.finished = event.reason
    journal.events = len(events)
    journal.seen = set(received)
    journal.undecided = [
        m for i, m in received.items() if i not in consumed and m.kind != "complete"
    ]
    journal.unacked = [m for i, m in sent.items() if i in committed and i not in settled]
    journal.recent = list(recent)
    journal.actions = list(actions)
    journal.tool_results = list(tool_results)
    counts["messages_sent"] = sum(1 for i in committed if i in sent and sent[i].kind != "complete")
    counts["messages_received"] = len(received)
    counts["decisions"] = journal.decisions
    journal.counts = counts
    return journal
