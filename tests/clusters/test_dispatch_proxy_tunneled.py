"""Nested dispatches from and to tunneled nodes are relayed through the head proxy."""

from __future__ import annotations

import pytest
import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from chia.base._ray_util import head_node_id
from chia.base.ChiaFunction import ChiaFunction, get
from chia.base.dispatch_proxy import TUNNELED_LABEL, get_dispatch_proxy, should_proxy
from chia.testing.ray_cluster import local_cluster

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

TUNNELED = {TUNNELED_LABEL: "true"}


@ChiaFunction(num_cpus=0)
def where(x: int) -> tuple[str, int]:
    return ray.get_runtime_context().get_node_id(), x


@ChiaFunction(num_cpus=0)
def dispatch_from_here(target: dict[str, object], x: int) -> tuple[bool, str, tuple[str, int]]:
    """Runs on one node; dispatches ``where`` with ``target`` options from there."""
    inner = where.options(**target)
    here = ray.get_runtime_context().get_node_id()
    return should_proxy(inner.ray_options), here, get(inner.chia_remote(x))  # type: ignore[attr-defined]


def on(resource: str) -> dict[str, object]:
    return {"resources": {resource: 0.01}}


def test_relay_decisions_and_results_across_tunneled_and_lan_nodes() -> None:
    workers = [
        {"resources": {"site_a": 1}, "labels": TUNNELED},
        {"resources": {"site_b": 1}, "labels": TUNNELED},
        {"resources": {"lan": 1}},
    ]
    with local_cluster(head={"resources": {"hub": 1}}, workers=workers):
        proxy = get_dispatch_proxy()
        node_of = {r: get(where.options(**on(r)).chia_remote(0))[0] for r in ("site_a", "lan")}
        if ray.get_runtime_context().get_node_id() == head_node_id():
            assert ray.get(proxy.relayed.remote()) == 0  # the head never relays

        def case(src: str, target: dict[str, object]) -> tuple[bool, tuple[str, int]]:
            before = ray.get(proxy.relayed.remote())
            proxied, here, result = get(
                dispatch_from_here.options(**on(src)).chia_remote(target, 7)
            )
            assert here == node_of[src]
            relayed = ray.get(proxy.relayed.remote()) - before
            assert relayed == int(proxied)  # relayed exactly when should_proxy said so
            return proxied, result

        # tunneled -> LAN: relayed, and the value still comes back
        proxied, (node, value) = case("site_a", on("lan"))
        assert proxied and node == node_of["lan"] and value == 7
        # LAN -> tunneled: relayed
        proxied, _ = case("lan", on("site_b"))
        assert proxied
        # tunneled -> head (the hub every spoke reaches): direct
        proxied, _ = case("site_a", on("hub"))
        assert not proxied
        # tunneled -> its own node: direct
        own = {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_of["site_a"], soft=False)}
        proxied, (node, _v) = case("site_a", own)
        assert not proxied and node == node_of["site_a"]
        # tunneled -> anywhere (plain CPU task may land on a LAN node): fail-safe relay
        proxied, _ = case("site_a", {"num_cpus": 0})
        assert proxied
        # LAN -> LAN: direct
        proxied, _ = case("lan", on("lan"))
        assert not proxied
