"""The profiling hook: who a dispatch reports to, and that the reference travels by pickle."""

from __future__ import annotations

import pickle
from collections.abc import Iterator

import pytest

from chia.base import _context, profiling_hook
from chia.base.profiling_hook import CollectorRef
from chia.trace.profiler import record_task


@pytest.fixture
def restore_driver() -> Iterator[None]:
    before = profiling_hook.driver_collector()
    yield
    profiling_hook.set_driver_collector(before)


def _ref(actor_id: str) -> CollectorRef:
    return CollectorRef("collector", "ns", actor_id, record_task)


@pytest.mark.usefixtures("restore_driver")
def test_the_driver_reports_to_what_was_set_and_stops_when_unset() -> None:
    profiling_hook.set_driver_collector(_ref("a1"))
    assert profiling_hook.active_collector() == _ref("a1")
    profiling_hook.set_driver_collector(None)
    assert profiling_hook.active_collector() is None


@pytest.mark.usefixtures("restore_driver")
def test_inside_a_task_the_context_decides_not_the_driver() -> None:
    profiling_hook.set_driver_collector(_ref("driver"))
    with _context.activated(_context.DispatchContext(collector=_ref("task")), "f"):
        assert profiling_hook.active_collector() == _ref("task")
    with _context.activated(_context.DispatchContext(), "g"):
        assert profiling_hook.active_collector() is None  # an unrecorded task stays unrecorded


def test_the_reference_pickles_its_recorder_by_name() -> None:
    blob = pickle.dumps(_context.DispatchContext(collector=_ref("a1")))
    assert b"chia.trace.profiler" in blob and b"record_task" in blob
    again = pickle.loads(blob).collector
    assert again == _ref("a1") and again.record is record_task


def test_a_restarted_collector_is_another_reference() -> None:
    assert _ref("a1") != _ref("a2") and hash(_ref("a1")) == hash(_ref("a1"))
