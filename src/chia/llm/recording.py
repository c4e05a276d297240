"""Recording of model calls: one append-only JSONL file per agent, keyed by request digest.

Every call a :class:`RecordingModel` makes is appended to ``<site_dir>/llm/<agent>.jsonl``
as one :class:`CallRecord`: the request (chat messages and tool schemas), its digest, and
the full response (content, tool calls, token counts, model name) or the error. Nothing
else is written: no API key, no header, no endpoint. Each line goes out in a single
``write`` on an ``O_APPEND`` descriptor, and the file has one writer, so a killed process
leaves whole lines and at most a torn last one, which the next incarnation cuts off
before it appends (it is the only writer then). The file is also the only memory of
what was asked: a restarted agent reads it back, nothing is kept just in memory.

The digest (:func:`request_digest`) is a sha256 over a canonical JSON of what determines
the answer: provider, model, the chat messages (role, content, tool calls and their ids),
the tool schemas, and the settings that change the answer (temperature, max_tokens).
:mod:`chia.llm.replay` answers from these records by digest.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from chia.errors import ChiaUsageError
from chia.llm.chat import ChatMessage, ChatModel, Completion, ToolCallRequest, ToolSpec
from chia.llm.errors import LLMCallError

__all__ = [
    "CallLog",
    "CallRecord",
    "ModelIdentity",
    "RecordFileError",
    "RecordingModel",
    "find_records",
    "read_records",
    "records_path",
    "request_digest",
    "turn_round",
]

#: Where a site keeps its agents' model-call records: ``<site_dir>/llm/<agent>.jsonl``.
RECORDS_DIR = "llm"


class RecordFileError(ChiaUsageError):
    """A record file that cannot be read: the message names the file and line."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelIdentity(_Frozen):
    """What decides an answer besides the conversation: who answers and how.

    Attributes:
        provider: The provider name (``openai_compatible``, ``scripted``...).
        model: The model name sent to the provider.
        temperature: The sampling temperature, if set.
        max_tokens: The completion budget, if set.
    """

    provider: str
    model: str
    temperature: float | None = None
    max_tokens: int | None = None


class CallResponse(_Frozen):
    """A recorded answer: everything a :class:`~chia.llm.chat.Completion` holds."""

    content: str = ""
    tool_calls: list[ToolCallRequest] = Field(default_factory=list)
    tokens_in: int = Field(0, ge=0)
    tokens_out: int = Field(0, ge=0)
    latency_s: float = Field(0.0, ge=0)
    model: str = ""


class CallRequest(_Frozen):
    """A recorded request: the conversation and the tools offered."""

    messages: list[ChatMessage]
    tools: list[dict[str, Any]] = Field(default_factory=list)


class CallRecord(_Frozen):
    """One model call, as one line of an agent's record file.

    Attributes:
        seq: The call's position in the agent's sequence of calls (0 first).
        digest: :func:`request_digest` of the request under ``identity``.
        source: ``live`` (a model answered) or ``replay`` (a recording answered).
        round: The decision round the call belonged to (0 if unknown).
        campaign: The campaign's name, so a replay can refuse another campaign's records.
        identity: Provider, model and the settings that change the answer.
        request: The chat messages and tool schemas sent.
        response: The answer, or None when the call failed.
        error: Why the call failed (already redacted by the provider), or None.
        at: When the call returned.
    """

    seq: int = Field(ge=0)
    digest: str
    source: Literal["live", "replay"] = "live"
    round: int = Field(0, ge=0)
    campaign: str = ""
    identity: ModelIdentity
    request: CallRequest
    response: CallResponse | None = None
    error: str | None = None
    at: AwareDatetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    def completion(self) -> Completion:
        """The recorded answer as a completion (carrying its digest).

        Raises:
            LLMCallError: If the recorded call failed: the replay fails the same way.
        """
        if self.response is None:
            raise LLMCallError(self.error or "the recorded call failed")
        return Completion(**self.response.model_dump(), request_digest=self.digest)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def request_digest(
    identity: ModelIdentity, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()
) -> str:
    """Return ``sha256:<hex>`` over a canonical JSON of what determines the answer.

    Key order, whitespace and unset optional fields do not matter; any change of role,
    content, tool call (name, arguments, id), tool call id, tool schema (or their order),
    provider, model, temperature or max_tokens does.
    """
    document = {
        "identity": identity.model_dump(mode="json"),
        "messages": [m.model_dump(mode="json") for m in messages],
        "tools": [t.openai_schema() for t in tools],
    }
    return "sha256:" + hashlib.sha256(_canonical(document).encode()).hexdigest()


def turn_round(messages: Sequence[ChatMessage]) -> int:
    """The decision round a conversation belongs to, read from the turn's JSON state.

    The LLM policy opens every turn with a user message holding the state as JSON, with
    its ``round``; any other conversation belongs to round 0.
    """
    for message in messages:
        if message.role != "user":
            continue
        try:
            state = json.loads(message.content)
        except ValueError:
            return 0
        value = state.get("round") if isinstance(state, dict) else None
        return value if isinstance(value, int) and value >= 0 else 0
    return 0


def records_path(site_dir: Path, agent: str) -> Path:
    """Return ``<site_dir>/llm/<agent>.jsonl``."""
    return site_dir / RECORDS_DIR / f"{agent}.jsonl"


def find_records(run_dir: Path, agent: str) -> Path | None:
    """Find ``agent``'s record file in a run dir (``<run>/<site>/llm``) or a site dir."""
    direct = records_path(run_dir, agent)
    if direct.is_file():
        return direct
    found = sorted(run_dir.glob(f"*/{RECORDS_DIR}/{agent}.jsonl"))
    return found[0] if found else None


def _split_lines(data: bytes) -> tuple[list[bytes], int]:
    """Complete lines of ``data`` and the length of their prefix (a torn tail is left out)."""
    complete, newline, _tail = data.rpartition(b"\n")
    if not newline:
        return [], 0
    return complete.split(b"\n"), len(complete) + 1


def read_records(path: Path) -> list[CallRecord]:
    """Read an agent's record file; a torn last line (no newline yet) is skipped.

    Raises:
        RecordFileError: If the file cannot be read, or a complete line is not a record
            (the message names the file and the line number).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RecordFileError(f"{path}: cannot read model-call records: {exc.strerror}") from None
    lines, _ = _split_lines(data)
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(CallRecord.model_validate_json(line))
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "line"
            raise RecordFileError(
                f"{path}:{number}: not a model-call record ({where}: {problem['msg']}); "
                "the file is corrupt: record the run again"
            ) from None
    return records


class CallLog:
    """The one writer of an agent's record file, and what the file held when opened.

    A torn last line left by a killed earlier incarnation is cut off first, so this
    writer's lines never land after half a line.

    Args:
        path: The agent's record file (created, with its directory).
        campaign: The campaign name stamped on each record.

    Raises:
        RecordFileError: If the existing file holds a corrupt line.
    """

    def __init__(self, path: Path, *, campaign: str = "") -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.campaign = campaign
        self.records: list[CallRecord] = read_records(path) if path.is_file() else []
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        _, complete = _split_lines(path.read_bytes())
        if os.fstat(self._fd).st_size > complete:
            os.ftruncate(self._fd, complete)

    @property
    def next_seq(self) -> int:
        """The position of the next call in the agent's sequence."""
        return len(self.records)

    def append(self, record: CallRecord) -> CallRecord:
        """Append ``record`` as one line in one ``write``; return it."""
        line = record.model_dump_json(exclude_defaults=False).encode() + b"\n"
        os.write(self._fd, line)
        self.records.append(record)
        return record

    def record(
        self,
        identity: ModelIdentity,
        messages: Sequence[ChatMessage],
        tools: Sequence[ToolSpec],
        *,
        digest: str,
        source: Literal["live", "replay"],
        completion: Completion | None = None,
        error: str | None = None,
    ) -> CallRecord:
        """Build the next record of this agent's sequence and append it."""
        response = None
        if completion is not None:
            response = CallResponse(**completion.model_dump(include=set(CallResponse.model_fields)))
        return self.append(
            CallRecord(
                seq=self.next_seq,
                digest=digest,
                source=source,
                round=turn_round(messages),
                campaign=self.campaign,
                identity=identity,
                request=CallRequest(
                    messages=list(messages), tools=[t.openai_schema() for t in tools]
                ),
                response=response,
                error=error,
            )
        )

    def close(self) -> None:
        """Close the file."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class RecordingModel:
    """A chat model that records every call it passes to ``inner``.

    Works for any :class:`~chia.llm.chat.ChatModel` (``openai_compatible``, ``scripted``):
    the answer is returned unchanged but for its :attr:`Completion.request_digest`.

    Args:
        inner: The model that answers.
        identity: Its provider, model and answer-changing settings (for the digest).
        log: The agent's record file.
    """

    def __init__(self, inner: ChatModel, identity: ModelIdentity, log: CallLog) -> None:
        self.inner = inner
        self.identity = identity
        self.log = log

    @property
    def provider(self) -> str:
        """The inner model's provider."""
        return self.inner.provider

    @property
    def model(self) -> str:
        """The inner model's name."""
        return self.inner.model

    async def complete(
        self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()
    ) -> Completion:
        """Ask the inner model, record request and answer (or error), return the answer.

        Raises:
            LLMCallError: If the inner call failed (recorded first).
        """
        digest = request_digest(self.identity, messages, tools)
        try:
            completion = await self.inner.complete(messages, tools)
        except LLMCallError as exc:
            self.log.record(
                self.identity, messages, tools, digest=digest, source="live", error=str(exc)
            )
            raise
        self.log.record(
            self.identity, messages, tools, digest=digest, source="live", completion=completion
        )
        return completion.model_copy(update={"request_digest": digest})
