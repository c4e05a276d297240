"""``ray.wait`` wrapper with stuck-PENDING_NODE_ASSIGNMENT detection and retry.

Ray's owner-side task submitter sends worker-lease requests without a client-side
timeout. If the chosen raylet is wedged but TCP-reachable, the lease slot stays full
forever and later tasks of the same scheduling key are throttled at the owner.
``chia_wait`` detects the pattern (PENDING_NODE_ASSIGNMENT older than
``pending_timeout`` while the cluster has the resources free) and optionally cancels and
resubmits.

Use a ``TrackedRef`` to pair an ObjectRef with the closure that can re-dispatch it.
``chia_wait`` mirrors ``ray.wait``'s ``(ready, pending)`` return shape but operates on
TrackedRefs. Detection uses Ray's state API, which needs the dashboard running.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import ray

__all__ = ["PENDING_NODE_ASSIGNMENT", "TrackedRef", "chia_wait", "is_stuck"]

log = logging.getLogger(__name__)

PENDING_NODE_ASSIGNMENT = "PENDING_NODE_ASSIGNMENT"
_CHECK_INTERVAL_S = 0.5


@dataclass
class TrackedRef:
    """ObjectRef + resubmit closure + submission timestamp.

    ``submit_fn`` must accept no arguments and produce a fresh ObjectRef equivalent to
    the original submission (same function, args, options); capture call-site state with
    ``functools.partial`` or a closure.

    Attributes:
        ref: The current ObjectRef (replaced in place on a resubmit).
        submit_fn: Re-dispatches the same call, or None (never resubmitted).
        label: Free text for logs.
        submitted_at: ``time.time()`` of the current submission (0 means "now").
        retries: How many times it was resubmitted.
    """

    ref: Any
    submit_fn: Callable[[], Any] | None = None
    label: str = ""
    submitted_at: float = 0.0
    retries: int = field(default=0)

    def __post_init__(self) -> None:
        self.ref = getattr(self.ref, "ref", self.ref)  # accept an ObjectRefCallback
        if not self.submitted_at:
            self.submitted_at = time.time()


def is_stuck(
    state: str | None,
    required: Mapping[str, float],
    available: Mapping[str, float],
    total: Mapping[str, float],
    min_free_fraction: float = 0.5,
    demand_present: bool | None = None,
    require_demand_absent: bool = False,
) -> bool:
    """Classify one pending task (the documented stuck rule, as a pure function).

    Args:
        state: The task's state from the state API (None when not reported yet).
        required: The task's required resources.
        available: ``ray.available_resources()``.
        total: ``ray.cluster_resources()``.
        min_free_fraction: Every required resource must have at least this fraction of
            the cluster total free (a wedged raylet leaves resources idle; a busy cluster
            does not).
        demand_present: Whether the autoscaler reports pending demand of this shape
            (None when unknown).
        require_demand_absent: Also require that no such demand is reported.
    """
    if state != PENDING_NODE_ASSIGNMENT:
        return False
    for name, amount in required.items():
        if available.get(name, 0.0) < amount:
            return False
        cluster = total.get(name, 0.0)
        if cluster <= 0 or available.get(name, 0.0) / cluster < min_free_fraction:
            return False
    return not (require_demand_absent and demand_present is not False)


def _task_state(ref: Any) -> tuple[str | None, dict[str, float]]:
    from ray.util.state import get_task

    try:
        # Name this cluster explicitly: auto-discovery fails when several run on a host.
        gcs = ray.get_runtime_context().gcs_address
        found = get_task(ref.task_id().hex(), address=gcs, timeout=5)
    except Exception:
        return None, {}
    if isinstance(found, list):
        found = max(found, key=lambda t: t.attempt_number) if found else None
    if found is None:
        return None, {}
    required = {str(k): float(v) for k, v in (found.required_resources or {}).items()}
    return str(found.state), required


def _demand_present(required: Mapping[str, float]) -> bool | None:
    try:
        from ray.autoscaler.v2.sdk import get_cluster_status

        gcs = ray.get_runtime_context().gcs_address
        status = get_cluster_status(gcs, timeout=5)
        for demand in status.resource_demands.ray_task_actor_demand:
            for bundle in demand.bundles_by_count:
                if {k: float(v) for k, v in bundle.bundle.items()} == dict(required):
                    return True
        return False
    except Exception:
        return None


def _say(print_logs: bool, message: str, *args: Any) -> None:
    log.warning(message, *args)
    if print_logs:
        print(message % args, flush=True)


def _handle_stuck(
    tr: TrackedRef, retry: bool, max_retries: int, cancel_on_stuck: bool, print_logs: bool
) -> None:
    age = time.time() - tr.submitted_at
    if retry and tr.submit_fn is not None and tr.retries < max_retries:
        _say(
            print_logs,
            "chia_wait: %s stuck %.1fs in %s; resubmitting",
            tr.label,
            age,
            PENDING_NODE_ASSIGNMENT,
        )
        with contextlib.suppress(Exception):  # best effort: the old ref is orphaned anyway
            ray.cancel(tr.ref, force=True)
        fresh = tr.submit_fn()
        tr.ref = getattr(fresh, "ref", fresh)
        tr.submitted_at = time.time()
        tr.retries += 1
    elif cancel_on_stuck:
        _say(print_logs, "chia_wait: %s stuck %.1fs; cancelling", tr.label, age)
        ray.cancel(tr.ref, force=True)
    else:
        _say(
            print_logs,
            "chia_wait: %s stuck %.1fs in %s (no retry)",
            tr.label,
            age,
            PENDING_NODE_ASSIGNMENT,
        )


def _split(tracked: list[TrackedRef], num_returns: int, wait_s: float | None) -> list[int]:
    """Indices of ready refs (at most ``num_returns``), waiting up to ``wait_s``."""
    refs = [t.ref for t in tracked]
    ready, _ = ray.wait(refs, num_returns=min(num_returns, len(refs)), timeout=wait_s)
    ready_set = set(ready)
    return [i for i, r in enumerate(refs) if r in ready_set]


def chia_wait(
    tracked: list[TrackedRef],
    *,
    num_returns: int = 1,
    timeout: float | None = None,
    pending_timeout: float | None = None,
    retry: bool = False,
    max_retries: int = 1,
    require_demand_absent: bool = False,
    min_free_fraction: float = 0.5,
    cancel_on_stuck: bool = False,
    print_logs: bool = False,
) -> tuple[list[TrackedRef], list[TrackedRef]]:
    """Drop-in replacement for ``ray.wait()`` that handles stuck-PENDING tasks.

    Returns ``(ready, pending)`` after ``num_returns`` complete or ``timeout`` seconds
    elapse, as ``ray.wait`` does. When ``pending_timeout`` is set, a pending TrackedRef
    older than that is *stuck* iff the state API reports PENDING_NODE_ASSIGNMENT, the
    free resources cover its requirements with at least ``min_free_fraction`` of each
    free, and (with ``require_demand_absent``) no pending demand of its shape is
    reported. A stuck ref is cancelled and resubmitted in place when ``retry`` is set and
    it has ``submit_fn`` and retries left; else it is cancelled if ``cancel_on_stuck``,
    or only logged. The lists hold the very TrackedRef objects passed in.
    """
    if not tracked:
        return [], []
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        if pending_timeout is None:
            ready_idx = _split(tracked, num_returns, remaining)
            break
        slice_s = _CHECK_INTERVAL_S if remaining is None else min(_CHECK_INTERVAL_S, remaining)
        ready_idx = _split(tracked, num_returns, slice_s)
        if len(ready_idx) >= min(num_returns, len(tracked)) or remaining == 0.0:
            break
        _check_pending(
            tracked,
            ready_idx,
            pending_timeout,
            retry,
            max_retries,
            require_demand_absent,
            min_free_fraction,
            cancel_on_stuck,
            print_logs,
        )
    chosen = set(ready_idx)
    return [tracked[i] for i in ready_idx], [t for i, t in enumerate(tracked) if i not in chosen]


def _check_pending(
    tracked: list[TrackedRef],
    ready_idx: list[int],
    pending_timeout: float,
    retry: bool,
    max_retries: int,
    require_demand_absent: bool,
    min_free_fraction: float,
    cancel_on_stuck: bool,
    print_logs: bool,
) -> None:
    now = time.time()
    old = [t for i, t in enumerate(tracked) if i not in ready_idx]
    old = [t for t in old if now - t.submitted_at >= pending_timeout]
    if not old:
        return
    available = cast(Callable[[], dict[str, float]], ray.available_resources)()
    total = cast(Callable[[], dict[str, float]], ray.cluster_resources)()
    for tr in old:
        state, required = _task_state(tr.ref)
        demand = _demand_present(required) if require_demand_absent else None
        if is_stuck(
            state, required, available, total, min_free_fraction, demand, require_demand_absent
        ):
            _handle_stuck(tr, retry, max_retries, cancel_on_stuck, print_logs)
