"""Chrome trace / Perfetto JSON: one lane per worker, grouped by node."""

from __future__ import annotations

from typing import Any

from chia.trace.records import TaskRecord

__all__ = ["chrome_trace"]


def chrome_trace(records: list[TaskRecord]) -> dict[str, Any]:
    """Return a Chrome trace (``chrome://tracing``, ui.perfetto.dev) of the records.

    Each task is a complete event (``ph: X``) on its worker's thread within its node's
    process; caller -> callee edges become flow arrows when the caller task is recorded.
    """
    if not records:
        return {"traceEvents": [], "displayTimeUnit": "ms"}
    origin = min(r.start for r in records)
    nodes: dict[str, int] = {}
    workers: dict[tuple[str, str], int] = {}
    events: list[dict[str, Any]] = []
    by_task = {r.task_id: r for r in records if r.task_id}
    for rec in records:
        pid = nodes.setdefault(rec.node_id, len(nodes) + 1)
        tid = workers.setdefault((rec.node_id, rec.worker_id), len(workers) + 1)
        events.append(
            {
                "name": rec.function,
                "cat": "bypassed" if rec.bypassed else "cached" if rec.cached else "task",
                "ph": "X",
                "ts": (rec.start - origin) * 1e6,
                "dur": rec.duration * 1e6,
                "pid": pid,
                "tid": tid,
                "args": {
                    "tag": rec.tag,
                    "task_id": rec.task_id,
                    "caller": rec.caller,
                    "ok": rec.ok,
                    "error": rec.error,
                },
            }
        )
        parent = by_task.get(rec.caller_task)
        if parent is not None:
            flow = {"name": "call", "cat": "call", "id": rec.task_id}
            events.append(
                {
                    **flow,
                    "ph": "s",
                    "ts": (rec.start - origin) * 1e6,
                    "pid": nodes.setdefault(parent.node_id, len(nodes) + 1),
                    "tid": workers.setdefault((parent.node_id, parent.worker_id), len(workers) + 1),
                }
            )
            events.append(
                {
                    **flow,
                    "ph": "f",
                    "bp": "e",
                    "ts": (rec.start - origin) * 1e6,
                    "pid": pid,
                    "tid": tid,
                }
            )
    for node, pid in nodes.items():
        events.append(
            {"name": "process_name", "ph": "M", "pid": pid, "args": {"name": f"node {node[:12]}"}}
        )
    for (node, worker), tid in workers.items():
        events.append(
            {
                "name": "thread_name",
                "ph": "M",
                "pid": nodes[node],
                "tid": tid,
                "args": {"name": f"worker {worker[:12]}"},
            }
        )
    return {"traceEvents": events, "displayTimeUnit": "ms"}
