"""A machine dies mid-task: the task re-runs on another node with the same resources."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import ray

from chia.base.ChiaFunction import ChiaFunction, get
from chia.testing.ray_cluster import local_cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@ChiaFunction(num_cpus=0, resources={"fpga": 1}, max_retries=3)
def synthesize(marker: str) -> str:
    node = ray.get_runtime_context().get_node_id()
    with open(marker, "a") as handle:
        handle.write(node + "\n")
    if Path(marker).read_text().count("\n") == 1:
        time.sleep(60)  # the first attempt is still running when its machine is lost
    return node


def test_task_on_a_killed_node_reruns_on_another_with_the_resource(tmp_path: Path) -> None:
    fpga = {"resources": {"fpga": 1}, "num_cpus": 1}
    with local_cluster(workers=[fpga, fpga]) as cluster:
        marker = tmp_path / "attempts"
        ref = synthesize.chia_remote(str(marker))
        deadline = time.monotonic() + 60
        while not marker.exists() or not marker.read_text():
            assert time.monotonic() < deadline, "the first attempt never started"
            time.sleep(0.1)
        first = marker.read_text().split()[0]
        victim = next(n for n in cluster.list_all_nodes() if n.node_id == first)
        assert victim is not cluster.head_node
        cluster.remove_node(victim, allow_graceful=False)

        second = get(ref, timeout=90)
        attempts = marker.read_text().split()
        assert second != first and attempts == [first, second]
        # The task's owner sees the raylet die at once; the GCS marks the node dead only
        # after its missed health checks, which under load can come after the re-run.
        deadline = time.monotonic() + 60
        while first in (survivors := {n["NodeID"] for n in ray.nodes() if n["Alive"]}):
            assert time.monotonic() < deadline, "the killed node is still alive for Ray"
            time.sleep(0.2)
        assert second in survivors
