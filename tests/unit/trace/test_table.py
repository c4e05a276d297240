from __future__ import annotations

import csv
import io

from chia.trace.records import TaskRecord
from chia.trace.table import TABLE_COLUMNS, exec_time_csv


def test_per_function_totals_per_run() -> None:
    runs = [
        [TaskRecord("a", 0, 1), TaskRecord("a", 1, 4, bypassed=True), TaskRecord("b", 0, 10)],
        [TaskRecord("a", 100, 100.5, ok=False, cached=True)],
    ]
    rows = list(csv.DictReader(io.StringIO(exec_time_csv(runs))))
    assert tuple(rows[0]) == TABLE_COLUMNS
    assert [(r["run"], r["function"], r["calls"]) for r in rows] == [
        ("0", "b", "1"),
        ("0", "a", "2"),
        ("1", "a", "1"),
    ]
    a0 = rows[1]
    assert float(a0["total_s"]) == 4.0 and float(a0["mean_s"]) == 2.0
    assert float(a0["max_s"]) == 3.0 and a0["bypassed"] == "1"
    assert rows[2]["failed"] == "1" and rows[2]["cached"] == "1"
