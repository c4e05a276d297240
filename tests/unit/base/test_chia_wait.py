from __future__ import annotations

import functools
import time

import pytest
import ray

from chia.base.chia_wait import PENDING_NODE_ASSIGNMENT, TrackedRef, chia_wait, is_stuck
from chia.base.ChiaFunction import ChiaFunction, get

pytestmark = pytest.mark.timeout(60)

FREE = {"CPU": 2.0, "chia_x": 1.0}
TOTAL = {"CPU": 2.0, "chia_x": 1.0}


@ChiaFunction(num_cpus=0.01)
def value(x: int, delay: float = 0.0) -> int:
    time.sleep(delay)
    return x


def never_placed() -> ray.ObjectRef[int]:
    # A label no node carries: PENDING_NODE_ASSIGNMENT forever although CPU is free,
    # which is exactly what a wedged raylet looks like from the owner.
    return value.options(label_selector={"chia-test": "nowhere"}).chia_remote(1)


def test_is_stuck_rule() -> None:
    assert is_stuck(PENDING_NODE_ASSIGNMENT, {"CPU": 1}, FREE, TOTAL)
    assert not is_stuck("RUNNING", {"CPU": 1}, FREE, TOTAL)
    assert not is_stuck(None, {"CPU": 1}, FREE, TOTAL)
    assert not is_stuck(PENDING_NODE_ASSIGNMENT, {"GPU": 1}, FREE, TOTAL)  # not free
    busy = {"CPU": 0.5, "chia_x": 1.0}
    assert not is_stuck(PENDING_NODE_ASSIGNMENT, {"CPU": 0.5}, busy, TOTAL)  # 25% < 50%
    assert is_stuck(PENDING_NODE_ASSIGNMENT, {"CPU": 0.5}, busy, TOTAL, min_free_fraction=0.2)
    args = (PENDING_NODE_ASSIGNMENT, {"CPU": 1}, FREE, TOTAL, 0.5)
    assert not is_stuck(*args, demand_present=True, require_demand_absent=True)
    assert not is_stuck(*args, demand_present=None, require_demand_absent=True)
    assert is_stuck(*args, demand_present=False, require_demand_absent=True)
    assert is_stuck(*args, demand_present=True, require_demand_absent=False)


def test_mirrors_ray_wait_without_pending_timeout(ray_local: None) -> None:
    tracked = [TrackedRef(value.chia_remote(i, delay=0.05 * i), label=f"t{i}") for i in range(3)]
    ready, pending = chia_wait(tracked, num_returns=2, timeout=20)
    assert len(ready) == 2 and len(pending) == 1
    assert all(t in tracked for t in ready + pending)
    ready, pending = chia_wait(tracked, num_returns=3, timeout=20)
    assert [get(t.ref) for t in ready] == [0, 1, 2] and pending == []
    slow = [TrackedRef(value.chia_remote(9, delay=3))]
    ready, pending = chia_wait(slow, timeout=0.2)
    assert ready == [] and pending == slow
    assert chia_wait([]) == ([], [])


def test_stuck_task_is_cancelled_and_resubmitted_in_place(ray_local: None) -> None:
    tr = TrackedRef(never_placed(), submit_fn=functools.partial(value.chia_remote, 42))
    original = tr.ref
    ready, pending = chia_wait([tr], timeout=20, pending_timeout=0.5, retry=True)
    assert ready == [tr] and pending == []
    assert tr.retries == 1 and tr.ref is not original
    assert get(tr.ref) == 42


def test_stuck_without_retry_stays_pending(ray_local: None) -> None:
    tr = TrackedRef(never_placed(), submit_fn=functools.partial(value.chia_remote, 1))
    original = tr.ref
    ready, pending = chia_wait([tr], timeout=2.5, pending_timeout=0.5, retry=False)
    assert ready == [] and pending == [tr]
    assert tr.ref is original and tr.retries == 0
    ray.cancel(original, force=True)


def test_unplaceable_for_lack_of_resources_is_not_stuck(ray_local: None) -> None:
    # Pending because no node has the resource: a busy/short cluster, not a wedge.
    ref = value.options(resources={"chia_ghost": 1}).chia_remote(1)
    tr = TrackedRef(ref, submit_fn=functools.partial(value.chia_remote, 2))
    ready, pending = chia_wait([tr], timeout=2.5, pending_timeout=0.5, retry=True)
    assert ready == [] and pending == [tr] and tr.retries == 0
    ray.cancel(ref, force=True)


def test_cancel_on_stuck_without_retry(ray_local: None) -> None:
    tr = TrackedRef(never_placed())
    ready, _ = chia_wait([tr], timeout=20, pending_timeout=0.5, cancel_on_stuck=True)
    assert ready == [tr]
    with pytest.raises(ray.exceptions.TaskCancelledError):
        get(tr.ref)
