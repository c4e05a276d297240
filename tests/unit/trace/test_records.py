from __future__ import annotations

import json
from pathlib import Path

import pytest

from chia.errors import ChiaUsageError
from chia.trace.records import TaskRecord, read_records, split_runs


def rec(fn: str, start: float, end: float, **kw: object) -> dict[str, object]:
    return {"function": fn, "start": start, "end": end, **kw}


def test_reads_sorted_and_skips_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    lines = [json.dumps(rec("b", 2, 3)), json.dumps(rec("a", 1, 2, extra="ignored")), '{"func']
    path.write_text("\n".join(lines))
    records = read_records(path)
    assert [r.function for r in records] == ["a", "b"]
    assert records[0].duration == 1


def test_bad_middle_line_and_missing_file_are_usage_errors(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("garbage\n" + json.dumps(rec("a", 1, 2)) + "\n")
    with pytest.raises(ChiaUsageError, match=":1:"):
        read_records(path)
    with pytest.raises(ChiaUsageError, match="not found"):
        read_records(tmp_path / "nope.jsonl")


def test_split_runs_by_idle_gap() -> None:
    records = [
        TaskRecord("a", 0, 10),
        TaskRecord("b", 5, 50),  # overlaps: the run is busy until 50
        TaskRecord("c", 100, 101),  # 50 s idle: same run with a 60 s gap
        TaskRecord("d", 500, 501),  # new run
    ]
    assert [[r.function for r in run] for run in split_runs(records, 60)] == [
        ["a", "b", "c"],
        ["d"],
    ]
    assert len(split_runs(records, 10)) == 3
    assert split_runs([], 60) == []
