"""Replay of recorded model calls: answers by request digest, and the first divergence.

A :class:`ReplayModel` answers an agent's calls from the records a run wrote
(:mod:`chia.llm.recording`), with no network and no key: a request whose digest was
recorded gets the recorded answer (a recorded failure fails again). The first request
with no recorded answer is a divergence: a ``replay_diverged`` event says where (round,
digest, and a short diff against the recorded request at the same position of the
agent's sequence). Then either the call and every later one go to a live model (``chia
replay --continue-live``), or :class:`ReplayDivergedError` stops the agent.

The replayed run records again (``source: replay``), so a restarted agent knows which
recorded answers its earlier incarnation already used: its own record file, read back.
"""

from __future__ import annotations

import difflib
import json
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from chia.errors import ChiaError
from chia.events import Note, ReplayDiverged
from chia.llm.chat import ChatMessage, Completion, ToolSpec
from chia.llm.recording import (
    CallLog,
    CallRecord,
    ModelIdentity,
    RecordingModel,
    request_digest,
    turn_round,
)

__all__ = ["ReplayDivergedError", "ReplayModel", "request_diff"]

_DIFF_LINES = 24
_LINE_CHARS = 160


class ReplayDivergedError(ChiaError):
    """A replayed agent asked something the recording never answered.

    Attributes:
        agent: The agent.
        round: Its decision round.
        seq: The call's position in the agent's sequence.
        digest: The new request's digest.
        diff: What changed against the recorded request at that position.
    """

    #: Bad input (the run does not match its recording): a restart would only diverge again.
    exit_code = 2

    def __init__(self, agent: str, round_: int, seq: int, digest: str, diff: str) -> None:
        self.agent, self.round, self.seq, self.digest, self.diff = agent, round_, seq, digest, diff
        first = diff.splitlines()[0] if diff else "no recorded answer"
        super().__init__(
            f"replay of {agent} diverged at round {round_} (model call {seq + 1}): {first}"
        )


class EventSink(Protocol):
    """Where the replay records its divergence (the agent's event log)."""

    def emit(self, kind: Any, /, **fields: Any) -> object:
        """Append an event of ``kind``."""
        ...


def _render(message: ChatMessage) -> list[str]:
    """A message as diffable lines: JSON contents pretty-printed, tool calls one per line."""
    lines = [f"role: {message.role}"]
    if message.tool_call_id:
        lines.append(f"tool_call_id: {message.tool_call_id}")
    try:
        parsed = json.loads(message.content)
    except ValueError:
        parsed = None
    if isinstance(parsed, (dict, list)):
        lines += json.dumps(parsed, indent=1, sort_keys=True, ensure_ascii=False).splitlines()
    else:
        lines += message.content.splitlines()
    lines += [
        f"tool call {c.id}: {c.name}({json.dumps(c.arguments, sort_keys=True)})"
        for c in message.tool_calls
    ]
    return [line if len(line) <= _LINE_CHARS else line[:_LINE_CHARS] + "..." for line in lines]


def _tool_names(tools: Sequence[dict[str, Any]]) -> list[str]:
    return [str(t.get("function", {}).get("name", "?")) for t in tools]


def request_diff(
    recorded: CallRecord | None, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]
) -> str:
    """A short diff between a recorded request and a new one: which message changed, how.

    The first line names what differs (a message by index and role, the message count,
    the tools, or the model settings); a unified diff of that part follows, clipped.
    """
    if recorded is None:
        return "the recording has no model call at this position (the agent asks more)"
    old, new = recorded.request.messages, list(messages)
    for index, (before, after) in enumerate(zip(old, new, strict=False)):
        if before != after:
            body = difflib.unified_diff(
                _render(before), _render(after), "recorded", "replay", n=1, lineterm=""
            )
            lines = list(body)
            if len(lines) > _DIFF_LINES:
                lines = [*lines[:_DIFF_LINES], f"... ({len(lines) - _DIFF_LINES} more lines)"]
            return "\n".join([f"message {index} ({after.role}) changed", *lines])
    if len(old) != len(new):
        extra = (new if len(new) > len(old) else old)[min(len(old), len(new))]
        return (
            f"{len(new)} messages instead of the recorded {len(old)}; first unmatched: "
            f"{extra.role}: {extra.content[:_LINE_CHARS]}"
        )
    old_tools, new_tools = recorded.request.tools, [t.openai_schema() for t in tools]
    if old_tools != new_tools:
        return f"tools changed: recorded {_tool_names(old_tools)}, now {_tool_names(new_tools)}"
    return "the model or its settings changed (same messages and tools)"


class ReplayModel:
    """A chat model that answers from an agent's recorded calls, by request digest.

    Args:
        agent: The agent whose calls these are (for messages).
        recorded: The recorded run's calls of that agent, in order.
        log: The replaying run's own record file of the agent (restart-safe position).
        live: Where calls go after a divergence (``--continue-live``); None stops there.
        landmark: Prints one operator line (the host's landmark), if given.
    """

    def __init__(
        self,
        agent: str,
        recorded: Sequence[CallRecord],
        log: CallLog,
        *,
        live: RecordingModel | None = None,
        landmark: Callable[[str], None] | None = None,
    ) -> None:
        self.agent = agent
        self.recorded = list(recorded)
        self.log = log
        self.live = live
        self._landmark = landmark or (lambda text: None)
        self._sink: EventSink | None = None
        self._answers: dict[str, deque[CallRecord]] = {}
        for record in self.recorded:
            self._answers.setdefault(record.digest, deque()).append(record)
        self._identities = list(dict.fromkeys(r.identity for r in self.recorded))
        self._live_now = False
        for earlier in log.records:  # what an earlier incarnation of this agent used
            if earlier.source == "live":
                self._live_now = live is not None
            elif (queue := self._answers.get(earlier.digest)) and queue:
                queue.popleft()
        first = self.recorded[0].identity if self.recorded else None
        self._shown = first or ModelIdentity(provider="replay", model="none")

    @property
    def provider(self) -> str:
        """``replay`` while answering from the recording, then the live model's."""
        return self.live.provider if self._live_now and self.live else "replay"

    @property
    def model(self) -> str:
        """The recorded model's name (the live model's after a divergence)."""
        return self.live.model if self._live_now and self.live else self._shown.model

    def bind(self, sink: EventSink) -> None:
        """Record divergences through ``sink`` (the policy passes its own on)."""
        self._sink = sink

    def _identities_for(self, seq: int) -> list[ModelIdentity]:
        """Identities to try: the one recorded at this position first."""
        if seq < len(self.recorded):
            here = self.recorded[seq].identity
            return [here, *(i for i in self._identities if i != here)]
        return self._identities

    async def complete(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()
    ) -> Completion:
        """Answer from the recording; on the first miss, report and go live or stop.

        Raises:
            ReplayDivergedError: On a request the recording never answered, without
                a live model to continue on.
            LLMCallError: If the recorded call failed (or the live one does).
        """
        if self._live_now and self.live is not None:
            return await self.live.complete(messages, tools)
        seq = self.log.next_seq
        digests = [request_digest(i, messages, tools) for i in self._identities_for(seq)]
        for digest in digests:
            queue = self._answers.get(digest)
            if queue:
                hit = queue.popleft()
                self.log.append(hit.model_copy(update={"seq": seq, "source": "replay"}))
                return hit.completion()
        return await self._diverged(seq, digests[0] if digests else "", messages, tools)

    async def _diverged(
        self, seq: int, digest: str, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec]
    ) -> Completion:
        round_ = turn_round(messages)
        at = self.recorded[seq] if seq < len(self.recorded) else None
        diff = request_diff(at, messages, tools)
        digest = digest or request_digest(self._shown, messages, tools)
        if self._sink is not None:
            self._sink.emit(ReplayDiverged, round=round_, request_digest=digest, diff=diff)
        first = diff.splitlines()[0]
        if self.live is None:
            self._landmark(f"replay diverged at round {round_} ({first}): stopping")
            raise ReplayDivergedError(self.agent, round_, seq, digest, diff)
        self._live_now = True
        text = (
            f"replay diverged at round {round_} ({first}); continuing live on "
            f"{self.live.provider}:{self.live.model}"
        )
        if self._sink is not None:
            self._sink.emit(Note, level="warning", message=text)
        self._landmark(text)
        return await self.live.complete(messages, tools)
