"""The recovery benchmark's peer: Ray's own restart of a SIGKILLed actor worker, timed.

Real Ray (a local instance): the actor's worker process is really killed, and the figure
only comes back once a call was answered by a different, new worker process.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import ray

from chia.processes import is_running
from chia.testing.ray_cluster import ensure_local_ray, shutdown_ray
from chia.testing.ray_peer import Peer, time_restart


@pytest.fixture
def peer() -> Iterator[object]:
    ensure_local_ray()
    actor = ray.remote(max_restarts=-1, num_cpus=0)(Peer).remote()
    try:
        yield actor
    finally:
        ray.kill(actor)
        shutdown_ray()


def test_a_killed_worker_is_timed_until_a_new_one_answers(peer):
    first = ray.get(peer.pid.remote(), timeout=60)
    seconds, second = time_restart(ray, peer, first)
    assert seconds > 0
    assert second != first and not is_running(first)
    assert ray.get(peer.pid.remote(), timeout=60) == second  # the restarted actor serves on
    seconds, third = time_restart(ray, peer, second)  # and can be timed again
    assert third not in (first, second)
