from __future__ import annotations

from chia.trace.chrome import chrome_trace
from chia.trace.records import TaskRecord


def test_complete_events_lanes_and_flows() -> None:
    records = [
        TaskRecord("parent", 10.0, 12.0, task_id="p", node_id="n1", worker_id="w1"),
        TaskRecord(
            "leaf",
            10.5,
            11.0,
            task_id="l",
            node_id="n2",
            worker_id="w2",
            caller="parent",
            caller_task="p",
            tag="t1",
        ),
    ]
    trace = chrome_trace(records)
    events = trace["traceEvents"]
    tasks = [e for e in events if e["ph"] == "X"]
    assert [(e["name"], e["ts"], e["dur"]) for e in tasks] == [
        ("parent", 0.0, 2e6),
        ("leaf", 0.5e6, 0.5e6),
    ]
    assert tasks[0]["pid"] != tasks[1]["pid"] and tasks[1]["args"]["tag"] == "t1"
    flows = [e for e in events if e["ph"] in "sf"]
    assert {e["ph"] for e in flows} == {"s", "f"} and all(e["id"] == "l" for e in flows)
    names = {e["args"]["name"] for e in events if e["ph"] == "M"}
    assert "node n1" in names and "worker w2" in names


def test_empty() -> None:
    assert chrome_trace([]) == {"traceEvents": [], "displayTimeUnit": "ms"}
