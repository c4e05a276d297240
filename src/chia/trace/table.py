"""Per-function execution-time totals as CSV, one block of rows per run."""

from __future__ import annotations

import csv
import io
from collections import defaultdict

from chia.trace.records import TaskRecord

__all__ = ["TABLE_COLUMNS", "exec_time_csv"]

TABLE_COLUMNS = (
    "run",
    "function",
    "calls",
    "total_s",
    "mean_s",
    "max_s",
    "bypassed",
    "cached",
    "failed",
)


def exec_time_csv(runs: list[list[TaskRecord]]) -> str:
    """Return CSV of per-function totals for each run, largest total first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(TABLE_COLUMNS)
    for index, run in enumerate(runs):
        groups: defaultdict[str, list[TaskRecord]] = defaultdict(list)
        for rec in run:
            groups[rec.function].append(rec)
        rows = []
        for fn, recs in groups.items():
            durations = [r.duration for r in recs]
            total = sum(durations)
            rows.append(
                (
                    index,
                    fn,
                    len(recs),
                    total,
                    total / len(recs),
                    max(durations),
                    sum(r.bypassed for r in recs),
                    sum(r.cached for r in recs),
                    sum(not r.ok for r in recs),
                )
            )
        for row in sorted(rows, key=lambda r: (-r[3], r[1])):
            writer.writerow(
                [
                    row[0],
                    row[1],
                    row[2],
                    f"{row[3]:.6f}",
                    f"{row[4]:.6f}",
                    f"{row[5]:.6f}",
                    row[6],
                    row[7],
                    row[8],
                ]
            )
    return out.getvalue()
