"""The hook a profiler plugs into: ``chia.base`` reports finished tasks without importing one.

A profiler (``chia.trace.profiler``) turns recording on for the driver with
:func:`set_driver_collector`, giving a :class:`CollectorRef`: which collector actor the
records go to, and the module-level function that sends one. The reference travels in
the dispatch context of every recorded call; the worker that runs the task calls
``ref.record(...)`` when it ends. The function pickles by reference, so a worker imports
the profiler's module only when a recorded task reaches it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from chia.base import _context

if TYPE_CHECKING:
    from chia.base._context import DispatchContext

__all__ = [
    "CollectorRef",
    "TaskRecorder",
    "active_collector",
    "driver_collector",
    "set_driver_collector",
]

#: ``record(ctx, function, task_id, start, bypassed, error)``: send one finished task's
#: record (best effort: it must never raise into the user's task).
TaskRecorder = Callable[["DispatchContext", str, str, float, bool, "str | None"], None]


@dataclass(frozen=True)
class CollectorRef:
    """Where a dispatch's records go.

    Attributes:
        name: The collector's named-actor name.
        namespace: Its Ray namespace.
        actor_id: Its actor id (hex): a collector stopped and started again is another.
        record: The module-level function that sends one record (see :data:`TaskRecorder`).
    """

    name: str
    namespace: str
    actor_id: str
    record: TaskRecorder


_driver: CollectorRef | None = None


def set_driver_collector(ref: CollectorRef | None) -> None:
    """Record this process's dispatches to ``ref`` from now on (None: stop recording)."""
    global _driver
    _driver = ref


def driver_collector() -> CollectorRef | None:
    """The collector this process's own (driver) dispatches report to, if any."""
    return _driver


def active_collector() -> CollectorRef | None:
    """The collector this dispatch reports to: the running task's, else the driver's."""
    ctx = _context.current()
    if ctx is not None:
        return ctx.collector
    return _driver
