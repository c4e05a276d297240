from __future__ import annotations

import pytest
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from chia.base import dispatch_proxy as dp
from chia.base.ChiaFunction import ChiaFunction, get

HEAD = dp._Node("head", True, False, {"CPU": 1, "hub": 1}, {})
LAN_ID = "ab" * 28
LAN = dp._Node(LAN_ID, False, False, {"CPU": 2, "lan": 1}, {"zone": "a"})
SPOKE_A = dp._Node("a", False, True, {"CPU": 2, "site_a": 1}, {dp.TUNNELED_LABEL: "true"})
SPOKE_B = dp._Node("b", False, True, {"CPU": 2, "GPU": 1}, {})
NODES = {n.node_id: n for n in (HEAD, LAN, SPOKE_A, SPOKE_B)}


@ChiaFunction(num_cpus=0.1)
def probe() -> bool:
    return dp.should_proxy({"num_cpus": 0.1})


@pytest.mark.parametrize(
    ("src", "dst", "direct"),
    [
        (SPOKE_A, HEAD, True),
        (SPOKE_A, SPOKE_A, True),
        (SPOKE_A, LAN, False),
        (SPOKE_A, SPOKE_B, False),
        (LAN, SPOKE_B, False),
        (LAN, LAN, True),
        (HEAD, SPOKE_B, True),
    ],
)
def test_reachability(src: dp._Node, dst: dp._Node, direct: bool) -> None:
    assert dp._directly_reachable(src, dst) is direct


def test_candidates_from_resources_labels_and_affinity() -> None:
    assert dp._candidates({"resources": {"site_a": 1}}, NODES) == ["a"]
    assert sorted(dp._candidates({"num_cpus": 2}, NODES) or []) == sorted(["a", "b", LAN_ID])
    assert dp._candidates({"num_gpus": 1}, NODES) == ["b"]
    assert dp._candidates({"num_cpus": 0, "label_selector": {"zone": "a"}}, NODES) == [LAN_ID]
    hard = NodeAffinitySchedulingStrategy(LAN_ID, soft=False)
    assert dp._candidates({"scheduling_strategy": hard}, NODES) == [LAN_ID]
    soft = NodeAffinitySchedulingStrategy(LAN_ID, soft=True)
    assert "a" in (dp._candidates({"scheduling_strategy": soft, "num_cpus": 0}, NODES) or [])
    assert dp._candidates({"scheduling_strategy": object()}, NODES) is None  # unknown


def test_head_and_single_node_never_proxy(ray_local: None) -> None:
    assert dp.should_proxy({"resources": {"anything": 1}}) is False  # the driver is the head
    assert get(probe.chia_remote()) is False  # no tunneled node in this cluster
    assert ray.get_runtime_context().get_node_id() in dp._nodes()
