"""The profiler collector: one actor that appends every dispatch's record to JSONL.

Start it once on the driver with ``start_collector()``. From then on every
``chia_remote`` carries the collector's name in its dispatch context, and the worker that
runs the task sends one record when the task ends: function, tag, node, worker,
start/end, whether it was bypassed or cached, and the caller -> callee edge. Nested
dispatches inherit the context, so the whole call tree is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, TextIO

import ray

from chia.base import profiling_hook
from chia.base._context import DispatchContext
from chia.base._ray_util import (
    CHIA_NAMESPACE,
    get_named_actor,
    head_node_id,
    kill_named_actor,
    pinned_singleton,
)

__all__ = [
    "LOG_FILE",
    "RECORD_FIELDS",
    "ChiaProfiler",
    "ProfileCollectorActor",
    "active_collector",
    "flush",
    "get_collector",
    "get_profiler",
    "record_task",
    "reset_profiler",
    "start_collector",
    "stop_collector",
]

COLLECTOR_NAME = "chia_profile_collector"
LOG_FILE = f"{COLLECTOR_NAME}.jsonl"
"""The log's name in ``start_collector(log_dir=...)``'s directory."""
_handles: dict[profiling_hook.CollectorRef, Any] = {}
_handles_lock = threading.Lock()
_where: tuple[str, str] | None = None


RECORD_FIELDS = (
    "function",
    "tag",
    "task_id",
    "node_id",
    "worker_id",
    "start",
    "end",
    "bypassed",
    "cached",
    "caller",
    "caller_task",
    "ok",
    "error",
)
"""The keys of a profile record, in the order workers send them (as tuples)."""
_encode = json.JSONEncoder(default=str).encode


class ProfileCollectorActor:
    """Actor that appends one JSON line per record to its log file.

    Args:
        path: The JSONL file (appended to; created with its directory if missing).
    """

    def __init__(self, path: str) -> None:
        self._path = Path(path)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._file: TextIO | None = self._path.open("a", encoding="utf-8")
        self._count = 0

    def record(self, rec: dict[str, Any]) -> None:
        """Append one record."""
        self.record_many([rec])

    def record_many(self, recs: list[dict[str, Any]] | list[tuple[Any, ...]]) -> None:
        """Append a batch of records (one write): dicts, or tuples in ``RECORD_FIELDS`` order."""
        if self._file is None or not recs:
            return
        lines = [
            _encode(rec if isinstance(rec, dict) else dict(zip(RECORD_FIELDS, rec, strict=True)))
            for rec in recs
        ]
        lines.append("")
        self._file.write("\n".join(lines))
        self._file.flush()
        self._count += len(recs)

    def count(self) -> int:
        """How many records were written by this actor."""
        return self._count

    def path(self) -> str:
        """The log file."""
        return str(self._path)

    def actor_id(self) -> str:
        """This actor's id (hex): tells a collector from a later one of the same name."""
        return str(ray.get_runtime_context().get_actor_id())

    def close(self) -> str:
        """Flush and close the log; later records are dropped. Returns the path."""
        if self._file is not None:
            self._file.close()
            self._file = None
        return str(self._path)


def start_collector(
    path: str = "chia-profile.jsonl", namespace: str | None = None, *, log_dir: str | None = None
) -> Any:
    """Start (or find) the collector, pinned to the head node, and turn profiling on.

    Call on the driver after ``ray.init()``. Idempotent.

    Args:
        path: JSONL log to append records to (resolved to an absolute path here). An
            existing directory means ``log_dir`` (CHIA's first argument).
        namespace: Ray namespace of the named actor (default ``"chia"``).
        log_dir: CHIA's form: a directory, the log being ``LOG_FILE`` in it.

    Returns:
        The collector actor handle.
    """
    if log_dir is None and Path(path).is_dir():
        log_dir = path
    if log_dir is not None:
        path = str(Path(log_dir) / LOG_FILE)
    ns = namespace or CHIA_NAMESPACE
    handle = pinned_singleton(
        ProfileCollectorActor, COLLECTOR_NAME, ns, head_node_id(), str(Path(path).resolve())
    )
    actor_id = ray.get(handle.actor_id.remote())  # and ready before the first record
    ref = profiling_hook.CollectorRef(COLLECTOR_NAME, ns, actor_id, record_task)
    profiling_hook.set_driver_collector(ref)
    return handle


def stop_collector(namespace: str | None = None) -> str | None:
    """Turn profiling off, flush and stop the collector; return its log path (or None)."""
    driver = profiling_hook.driver_collector()
    ns = namespace or (driver.namespace if driver else CHIA_NAMESPACE)
    profiling_hook.set_driver_collector(None)
    handle = get_named_actor(COLLECTOR_NAME, ns)
    if handle is None:
        return None
    time.sleep(2 * _FLUSH_INTERVAL_S)  # let workers send their last batches
    path = str(ray.get(handle.close.remote()))
    kill_named_actor(COLLECTOR_NAME, ns)
    return path


class ChiaProfiler:
    """What CHIA's ``get_profiler()`` returns, for code written for CHIA.

    Records are made by the dispatch itself here, so this only tells whether this
    process's dispatches are being recorded.
    """

    @property
    def enabled(self) -> bool:
        """True while dispatches from here report to a collector."""
        return active_collector() is not None


_profiler = ChiaProfiler()


def get_profiler() -> ChiaProfiler:
    """The process's ``ChiaProfiler`` (CHIA's singleton accessor)."""
    return _profiler


def reset_profiler() -> None:
    """CHIA's reset of the profiler singleton; nothing is cached here, so a no-op."""


get_profiler.reset = reset_profiler  # type: ignore[attr-defined]  # CHIA's get_profiler.reset()


def get_collector(namespace: str | None = None) -> Any | None:
    """Return the collector actor handle, or None when none is running."""
    return get_named_actor(COLLECTOR_NAME, namespace or CHIA_NAMESPACE)


def active_collector() -> profiling_hook.CollectorRef | None:
    """The collector a dispatch from here reports to (the running task's, else the driver's)."""
    return profiling_hook.active_collector()


def _handle(ref: profiling_hook.CollectorRef) -> Any | None:
    """The collector actor ``ref`` names, or None if it is gone or was replaced."""
    with _handles_lock:
        handle = _handles.get(ref)
    if handle is not None:
        return handle
    handle = get_named_actor(ref.name, ref.namespace)
    if handle is None:
        return None
    try:
        if ray.get(handle.actor_id.remote(), timeout=10) != ref.actor_id:
            return None
    except Exception:  # gone meanwhile: drop this batch
        return None
    with _handles_lock:
        if len(_handles) > 8:
            _handles.clear()
        _handles[ref] = handle
    return handle


def record_task(
    ctx: DispatchContext,
    function: str,
    task_id: str,
    start: float,
    bypassed: bool,
    error: str | None,
) -> None:
    """Send one finished task's record to the collector named in ``ctx`` (best effort)."""
    if ctx.collector is None:
        return
    global _where
    if _where is None:  # a worker's node and id never change: looked up once
        runtime = ray.get_runtime_context()
        _where = (runtime.get_node_id(), runtime.get_worker_id())
    rec = (
        function,
        ctx.tag,
        task_id,
        _where[0],
        _where[1],
        start,
        time.time(),
        bypassed,
        ctx.cached,
        ctx.caller,
        ctx.caller_task,
        error is None,
        error,
    )  # in RECORD_FIELDS order: a tuple pickles smaller than a dict
    with _buffer_lock:
        batch = _buffer.get(ctx.collector)
        if batch is None:
            batch = _buffer[ctx.collector] = []
        batch.append(rec)
        full = len(batch) >= _BATCH
    if _flusher is None:
        _ensure_flusher()
    if full:
        flush()


# Records are batched per worker process: one actor call per batch instead of per task.
_BATCH = 256
_FLUSH_INTERVAL_S = 0.2
_buffer: dict[profiling_hook.CollectorRef, list[tuple[Any, ...]]] = {}
_buffer_lock = threading.Lock()
_flusher: threading.Thread | None = None


def flush() -> None:
    """Send buffered records to their collectors now (best effort)."""
    with _buffer_lock:
        batches = [(ident, recs) for ident, recs in _buffer.items() if recs]
        _buffer.clear()
    for ident, recs in batches:
        handle = _handle(ident)
        if handle is None:
            continue
        try:
            handle.record_many.remote(recs)
        except Exception:  # a dead collector must not fail the user's task
            with _handles_lock:
                _handles.pop(ident, None)


def _flush_forever() -> None:
    while True:
        time.sleep(_FLUSH_INTERVAL_S)
        flush()


def _ensure_flusher() -> None:
    global _flusher
    if _flusher is None:
        with _buffer_lock:
            if _flusher is None:
                _flusher = threading.Thread(target=_flush_forever, name="chia-profile", daemon=True)
                _flusher.start()
