"""What runs on the worker: the task body wrapped with context, PID tracking, profiling."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chia.base import _context, pid_registry
from chia.base._context import CTX_KWARG, DispatchContext
from chia.base._hooks import HOOKS_KWARG, Hooks, run_with_hooks

__all__ = ["bypass_task", "make_runner", "run_task"]


def run_task(
    name: str,
    ctx: DispatchContext | None,
    body: Callable[[], Any],
    bypassed: bool = False,
) -> Any:
    """Run ``body`` as the chia task ``name`` on this worker.

    Installs ``ctx`` for nested dispatches, tracks subprocesses spawned by the task
    (killing them if it raises) and, when profiling, reports the task to the collector.
    Kept free of context managers: it runs once per task and sits on the hot path.
    """
    if not pid_registry.hook_installed():
        pid_registry.install_popen_hook()
    start = time.time()
    error: str | None = None
    frame, previous = _context.push(ctx, name)
    try:
        result = body()
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"
        if frame.procs:
            pid_registry.task_failed(frame.task_id, frame.procs)
        raise
    else:
        if frame.procs:
            pid_registry.task_finished(frame.task_id, frame.procs)
        return result
    finally:
        _context.pop(previous)
        if ctx is not None and ctx.collector is not None:
            ctx.collector.record(ctx, name, frame.task_id, start, bypassed, error)


def make_runner(
    fn: Callable[..., Any],
    name: str,
    hooks: Hooks | None = None,
    ctx: DispatchContext | None = None,
) -> Callable[..., Any]:
    """Return the function handed to ``ray.remote`` for ``fn`` (named like it).

    ``hooks`` (from the decorator or ``.options``) travel with the function itself, once;
    a call that sets its own passes them in its keyword arguments. Hooks run inside the
    task, so subprocesses they spawn are tracked with it. ``ctx`` likewise is the
    context of every call that carries none of its own (a driver's untagged calls while
    profiling), so those calls send no extra argument.
    """

    def runner(*args: Any, **kwargs: Any) -> Any:
        call_ctx, call = ctx, hooks
        if kwargs:
            call_ctx = _context.decode(kwargs.pop(CTX_KWARG, ctx))
            if kwargs:
                call = kwargs.pop(HOOKS_KWARG, hooks)
        if call is None:
            return run_task(name, call_ctx, lambda: fn(*args, **kwargs))
        return run_task(name, call_ctx, lambda: run_with_hooks(call, lambda: fn(*args, **kwargs)))

    runner.__name__ = name
    runner.__qualname__ = name
    return runner


def bypass_task(
    name: str,
    provider: Callable[..., Any],
    tag: str | None,
    data_path: str | None,
    *args: Any,
    **kwargs: Any,
) -> Any:
    """Stand-in task for a bypassed call: run the provider on the worker."""
    ctx = _context.decode(kwargs.pop(CTX_KWARG, None))
    return run_task(name, ctx, lambda: provider(tag, data_path, *args, **kwargs), bypassed=True)
