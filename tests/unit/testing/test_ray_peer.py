"""The recovery benchmark's peer: Ray's own restart of a SIGKILLed actor worker, timed.

Real Ray (a local instance): the actor's worker process is really killed, and the figure
only comes back once a call was answered by a different, new worker process.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import ray

from chia.processes import is_running
from chia.testing.ray_cluster import ensure_local_ray, shutdown_ray
from chia.testing.ray_peer import Peer, RayPeerDriver, time_restart


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


def test_the_driver_process_times_each_restart_and_exits_at_end_of_input(peer):
    address = ray.get_runtime_context().gcs_address
    driver = RayPeerDriver({**os.environ, "RAY_ADDRESS": address})
    try:
        figures = [driver.restart_once(), driver.restart_once()]
    finally:
        driver.close()
    assert driver.samples == figures and all(seconds > 0 for seconds in figures)
    assert driver.proc.returncode == 0  # it exited by itself, its actor killed
