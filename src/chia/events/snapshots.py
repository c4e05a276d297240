"""Status and placement snapshots: small JSON files rewritten atomically by their owner.

``status/<agent>.json`` is written only by that agent's host process; ``placement.json``
only by the site launcher. Readers (the dashboard, ``chia runs``) never write.
"""

from __future__ import annotations

import enum
import json
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "AgentPlacement",
    "AgentState",
    "AgentStatus",
    "Placement",
    "read_snapshot",
    "write_json_atomic",
    "write_snapshot",
]

M = TypeVar("M", bound=BaseModel)


class AgentState(str, enum.Enum):
    """Where an agent is in its life.

    The normal path is STARTING -> REGISTERED -> WAITING_FOR_PEERS -> RUNNING -> FINISHED.
    """

    STARTING = "starting"
    """The host process is up and importing; nothing is on the exchange yet."""
    REGISTERED = "registered"
    """The agent's mailbox exists under its deterministic uid."""
    WAITING_FOR_PEERS = "waiting_for_peers"
    """Pinging every allowed peer until each answers (or the startup timeout)."""
    RUNNING = "running"
    """All peers answered; the agent takes messages and makes decisions."""
    FINISHED = "finished"
    """Stopped normally: campaign complete, max decisions, idle timeout or told to stop."""
    FAILED = "failed"
    """Stopped on an error (peer timeout, crash); ``last_error`` says which."""


class _Snapshot(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AgentStatus(_Snapshot):
    """One agent's latest state, written to ``status/<agent>.json``."""

    run_id: str
    site: str
    agent: str
    uid: str
    state: AgentState
    host: str | None = None
    pid: int | None = None
    rank: int | None = None
    decisions: int = 0
    messages_sent: int = 0
    messages_received: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    messages_acked: int = 0
    undelivered: int = 0
    duplicates_dropped: int = 0
    restarts: int = 0
    finish_reason: str | None = None
    result: str | None = None
    last_error: str | None = None
    updated: AwareDatetime


class AgentPlacement(_Snapshot):
    """Where one agent runs."""

    agent: str
    uid: str
    host: str
    pid: int | None = None
    rank: int


class Placement(_Snapshot):
    """A site's ``placement.json``: which agent runs where, under which launcher."""

    run_id: str
    site: str
    launcher: str
    exchange: str
    agents: list[AgentPlacement] = Field(default_factory=list)
    updated: datetime


def write_json_atomic(path: Path, data: Any) -> None:
    """Write JSON to ``path`` via a temporary file and rename, so readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, default=str)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_snapshot(path: Path, snapshot: BaseModel) -> None:
    """Atomically write a snapshot model as JSON."""
    write_json_atomic(path, snapshot.model_dump(mode="json"))


def read_snapshot(path: Path, model: type[M]) -> M | None:
    """Read a snapshot, or None when it is absent or unreadable (never raises)."""
    try:
        return model.model_validate_json(path.read_bytes())
    except (OSError, ValidationError):
        return None
