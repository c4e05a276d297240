from __future__ import annotations

from typing import Any

import pytest

from chia.testing.trace_format import check_trace


def _doc(*events: dict[str, Any]) -> dict[str, Any]:
    return {"displayTimeUnit": "ms", "traceEvents": list(events)}


def _x(ts: float, dur: float, tid: int = 1) -> dict[str, Any]:
    return {"name": "s", "ph": "X", "ts": ts, "dur": dur, "pid": 1, "tid": tid}


def _flow(ph: str, ts: float, tid: int, flow_id: int = 1, cat: str = "m") -> dict[str, Any]:
    return {"name": "f", "cat": cat, "ph": ph, "id": flow_id, "ts": ts, "pid": 1, "tid": tid}


GOOD = [
    {"name": "process_name", "ph": "M", "ts": 0, "pid": 1, "tid": 1, "args": {"name": "p"}},
    {"name": "thread_name", "ph": "M", "ts": 0, "pid": 1, "tid": 2, "args": {"name": "t"}},
    _x(0, 10),
    _x(2, 3),
    _x(20, 1, tid=2),
    _flow("s", 2.5, 1),
    {**_flow("f", 20.5, 2), "bp": "e"},
]


def test_a_good_trace_has_no_problems() -> None:
    summary = check_trace(_doc(*GOOD))
    assert summary.problems == []
    assert summary.processes == {1: "p"} and summary.threads == {(1, 2): "t"}
    assert len(summary.flows) == 1 and summary.phases["X"] == 3


@pytest.mark.parametrize(
    ("events", "problem"),
    [
        ([_x(0, -1)], "X with dur -1"),
        ([{**_x(0, 1), "stack": [1]}], "an array at the top level"),
        ([{**_x(0, 1), "ts": "0"}], "of the wrong type"),
        ([{**_x(0, 1), "tid": None}], "tid None"),
        ([_x(0, 10), _x(5, 10)], "overlaps its parent"),
        ([_x(0, 10), _flow("s", 1, 1)], "1 start(s), 0 finish(es)"),
        ([_x(0, 10), _flow("s", 5, 1), _flow("f", 1, 1)], "goes back in time"),
        ([_x(0, 10), _flow("s", 1, 1), _flow("f", 2, 1, cat="x")], "differ in cat"),
        ([_x(0, 10), _flow("s", 11, 1), _flow("f", 12, 1)], "is in no slice"),
        ([{"name": "thread_name", "ph": "M", "ts": 0, "pid": 1, "tid": 1}], "M without args"),
    ],
)
def test_each_fault_is_reported(events: list[dict[str, Any]], problem: str) -> None:
    problems = check_trace(_doc(*events)).problems
    assert any(problem in p for p in problems), problems


def test_the_document_must_be_an_object_with_its_keys() -> None:
    assert check_trace([]).problems == ["not an object with a traceEvents list"]
    assert check_trace({"traceEvents": []}).problems == ["displayTimeUnit None"]
