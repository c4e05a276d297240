"""The dispatch context: what a remote call carries so nested dispatches behave alike.

When bypass, caching or profiling is active, every dispatch sends a small
``DispatchContext`` along with its arguments. The worker installs it for the duration of
the call, so any ``chia_remote`` made inside the task obeys the same bypass state and
reports to the same profiler, with the calling task recorded as the caller. With nothing
active no context is sent at all (the fast path).
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import ray

if TYPE_CHECKING:
    from chia.base.profiling_hook import CollectorRef

__all__ = [
    "CTX_KWARG",
    "DispatchContext",
    "TaskFrame",
    "activated",
    "current",
    "current_frame",
    "decode",
    "encode",
    "in_task",
    "pop",
    "push",
]

CTX_KWARG = "_chia_ctx"
"""Keyword under which a dispatch passes its context to the remote runner."""


@dataclass(frozen=True)
class DispatchContext:
    """State that travels with one dispatch.

    Attributes:
        bypass_key: Identity and version of the bypass state (workers cache the decode).
        bypass_state: ``Bypass.get_state()`` pickled with cloudpickle, or None.
        collector: Where the task's profile record goes, or None (not recorded).
        caller: Function name of the dispatching task (``"driver"`` outside a task).
        caller_task: Ray task id of the dispatching task ("" outside a task).
        tag: The call's ``_chia_tag``.
        cached: True when the call's output will be written to the cache.
    """

    bypass_key: str = ""
    bypass_state: bytes | None = None
    collector: CollectorRef | None = None
    caller: str = "driver"
    caller_task: str = ""
    tag: str | None = None
    cached: bool = False

    def for_call(self, tag: str | None, cached: bool) -> DispatchContext:
        """Return a copy describing one call (its tag and cache flag)."""
        return replace(self, tag=tag, cached=cached)


_encoded: dict[DispatchContext, bytes] = {}
_decoded: dict[bytes, DispatchContext] = {}
_CODEC_CACHE = 256


def encode(ctx: DispatchContext) -> bytes:
    """The context as bytes for the call (memoized: most calls repeat the same context).

    Ray sends bytes as they are, where a dataclass goes through cloudpickle on every
    call; with profiling on that was most of the dispatch overhead.
    """
    blob = _encoded.get(ctx)
    if blob is None:
        if len(_encoded) >= _CODEC_CACHE:
            _encoded.clear()
        blob = _encoded[ctx] = pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL)
    return blob


def decode(blob: bytes | DispatchContext | None) -> DispatchContext | None:
    """The context a call carried (``encode``'s bytes; memoized on the worker)."""
    if blob is None or isinstance(blob, DispatchContext):
        return blob
    ctx = _decoded.get(blob)
    if ctx is None:
        if len(_decoded) >= _CODEC_CACHE:
            _decoded.clear()
        ctx = _decoded[blob] = pickle.loads(blob)
    return ctx


class TaskFrame:
    """The chia task running in a thread: its context, name, id and spawned children."""

    __slots__ = ("_task_id", "context", "function", "procs")

    def __init__(self, context: DispatchContext | None, function: str) -> None:
        self.context = context
        self.function = function
        self.procs: list[Any] = []
        self._task_id: str | None = None

    @property
    def task_id(self) -> str:
        """The Ray task id (looked up on first use, from the task's own thread)."""
        if self._task_id is None:
            self._task_id = ray.get_runtime_context().get_task_id() or ""
        return self._task_id


_local = threading.local()


def current() -> DispatchContext | None:
    """Return the context of the task running in this thread, if it carried one."""
    frame: TaskFrame | None = getattr(_local, "frame", None)
    return frame.context if frame is not None else None


def current_frame() -> TaskFrame | None:
    """Return the frame of the chia task running in this thread, if any."""
    return getattr(_local, "frame", None)


def in_task() -> tuple[str, str] | None:
    """Return ``(function, task_id)`` of the chia task running in this thread, if any."""
    frame: TaskFrame | None = getattr(_local, "frame", None)
    return (frame.function, frame.task_id) if frame is not None else None


def push(context: DispatchContext | None, function: str) -> tuple[TaskFrame, TaskFrame | None]:
    """Enter a task in this thread; return its frame and the one to restore with ``pop``."""
    previous: TaskFrame | None = getattr(_local, "frame", None)
    frame = TaskFrame(context, function)
    _local.frame = frame
    return frame, previous


def pop(previous: TaskFrame | None) -> None:
    """Leave the current task, restoring the frame ``push`` returned."""
    _local.frame = previous


@contextmanager
def activated(context: DispatchContext | None, function: str) -> Iterator[TaskFrame]:
    """Install ``context`` as this thread's task context for the duration of a block."""
    frame, previous = push(context, function)
    try:
        yield frame
    finally:
        pop(previous)
