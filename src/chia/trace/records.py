"""Reading profile logs: one record per dispatched task, split into runs by time gaps."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chia.errors import ChiaUsageError

__all__ = ["DEFAULT_GAP_S", "TaskRecord", "read_records", "split_runs"]

DEFAULT_GAP_S = 60.0
"""A pause longer than this between tasks starts a new run."""


@dataclass(frozen=True)
class TaskRecord:
    """One dispatched task as the collector recorded it."""

    function: str
    start: float
    end: float
    tag: str | None = None
    task_id: str = ""
    node_id: str = ""
    worker_id: str = ""
    bypassed: bool = False
    cached: bool = False
    caller: str = "driver"
    caller_task: str = ""
    ok: bool = True
    error: str | None = None

    @property
    def duration(self) -> float:
        """Seconds the task ran."""
        return max(0.0, self.end - self.start)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskRecord:
        """Build a record from one decoded log line (unknown keys are ignored)."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def read_records(path: str | Path) -> list[TaskRecord]:
    """Read a profile log, skipping a torn last line; records sorted by start time.

    Raises:
        ChiaUsageError: If the file is missing or a complete line is not a record.
    """
    file = Path(path)
    if not file.is_file():
        raise ChiaUsageError(f"profile log not found: {path}")
    lines = file.read_text(encoding="utf-8").splitlines()
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            records.append(TaskRecord.from_json(json.loads(line)))
        except (ValueError, TypeError) as exc:
            if number == len(lines):
                break  # a writer was cut off mid-line: ignore the torn tail
            raise ChiaUsageError(f"{path}:{number}: not a profile record ({exc})") from exc
    return sorted(records, key=lambda r: r.start)


def split_runs(records: list[TaskRecord], gap_s: float = DEFAULT_GAP_S) -> list[list[TaskRecord]]:
    """Split records into runs wherever no task was running for more than ``gap_s``."""
    runs: list[list[TaskRecord]] = []
    last_end = float("-inf")
    for rec in sorted(records, key=lambda r: r.start):
        if not runs or rec.start - last_end > gap_s:
            runs.append([])
        runs[-1].append(rec)
        last_end = max(last_end, rec.end)
    return runs
