from __future__ import annotations

import logging

import pytest
import ray
from ray.util.placement_group import placement_group, placement_group_table, remove_placement_group

from chia.base.ChiaFunction import ChiaFunction, get
from chia.base.colocated import ColocatedNode, PinnedChiaFn

pytestmark = pytest.mark.timeout(60)


def current_pg() -> str | None:
    pg = ray.get_runtime_context().get_placement_group_id()
    return str(pg) if pg else None


@ChiaFunction(num_cpus=0.5)
def build() -> str | None:
    return current_pg()


@ChiaFunction(num_cpus=0.5)
def run() -> str | None:
    return current_pg()


@ChiaFunction(num_cpus=2)
def huge() -> str | None:
    return current_pg()


class SimNode(ColocatedNode):
    _MEMBER_FNS = ("build", "run")
    _DEFAULT_BUNDLE = {"CPU": 1.0}
    build = build
    run = run


class GreedyNode(SimNode):
    _MEMBER_FNS = ("build", "huge")
    huge = huge


@ray.remote(num_cpus=0)
class Probe:
    def where(self) -> str | None:
        return current_pg()


def state(pg: object) -> str:
    return str(placement_group_table(pg)["state"])


def test_self_reserved_pg_pins_members_and_is_released(ray_local: None) -> None:
    with SimNode() as node:
        pg = node.placement_group
        assert pg is not None and node.owns_placement_group
        assert isinstance(node.build, PinnedChiaFn)
        assert get(node.build.chia_remote()) == pg.id.hex()
        assert get(node.run.chia_remote()) == pg.id.hex()
        assert node.run.chia_remote_blocking() == pg.id.hex()
        assert get(node.run.options(num_cpus=0.25).chia_remote()) == pg.id.hex()
        assert get(SimNode.run.chia_remote()) is None  # the class attribute is unpinned
        actor = Probe.options(**node.task_options).remote()  # type: ignore[attr-defined]
        assert ray.get(actor.where.remote()) == pg.id.hex()
        ray.kill(actor)
    assert state(pg) == "REMOVED"
    node.close()  # idempotent


def test_given_pg_is_used_and_never_removed(ray_local: None) -> None:
    pg = placement_group([{"CPU": 0.5}, {"CPU": 0.5}], strategy="PACK")
    ray.get(pg.ready(), timeout=20)
    try:
        node = SimNode(pg, bundle_index=1)
        assert not node.owns_placement_group
        assert get(node.build.chia_remote()) == pg.id.hex()
        node.close()
        assert state(pg) == "CREATED"
    finally:
        remove_placement_group(pg)


def test_require_colocated_false_leaves_placement_to_caller(ray_local: None) -> None:
    node = SimNode(require_colocated=False)
    assert node.placement_group is None and node.task_options == {}
    assert node.build.scheduling_opts == {}
    assert get(node.build.chia_remote()) is None


def test_member_that_cannot_fit_warns_and_fails_at_submission(
    ray_local: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="chia.base.colocated"):
        node = GreedyNode()
    try:
        assert "huge" in caplog.text and "build" not in caplog.text.split("member(s):")[1]
        assert get(node.build.chia_remote()) == node.placement_group.id.hex()  # type: ignore[union-attr]
        with pytest.raises(ValueError):
            node.huge.chia_remote()
    finally:
        node.close()


def test_pg_ready_timeout_releases_the_reservation(ray_local: None) -> None:
    with pytest.raises(ray.exceptions.GetTimeoutError):
        SimNode(reserve_bundle={"CPU": 64.0}, pg_ready_timeout_s=0.5)
    big = [
        pg
        for pg in placement_group_table().values()
        if pg["bundles"] and pg["bundles"][0].get("CPU") == 64.0
    ]
    assert big and all(pg["state"] == "REMOVED" for pg in big)
