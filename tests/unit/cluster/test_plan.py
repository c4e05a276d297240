from __future__ import annotations

import pytest

from chia.cluster.loading import parse_cluster
from chia.cluster.plan import make_plan
from chia.errors import ChiaUsageError

FILE = """\
cluster_name: p
provider:
  head_ip: 10.0.0.1
  machines:
    - {name: a, ip: 10.0.0.1, cpus: 4}
    - {name: b, ip: 10.0.0.2, cpus: 4}
    - {name: c, ip: 10.0.0.3, cpus: 2, resources: {fpga: 1}}
available_node_types:
  w: {resources: {CPU: 1}, num_workers: 4, compatible_ips: [a, b, c]}
"""


def _where(text: str, strategy=None) -> dict[str, str]:
    plan = make_plan(parse_cluster(text), strategy=strategy)
    return {w.name: w.machine.label for w in plan.workers}


def test_pack_fills_the_first_machine():
    assert _where(FILE, "pack") == {"w-1": "a", "w-2": "a", "w-3": "a", "w-4": "a"}


def test_spread_round_robins():
    assert _where(FILE, "spread") == {"w-1": "a", "w-2": "b", "w-3": "c", "w-4": "a"}


def test_least_loaded_uses_capacity_ratio():
    # c has 2 cpus: after one worker it is at 50%, like a and b after two.
    assert _where(FILE, "least-loaded") == {"w-1": "a", "w-2": "b", "w-3": "c", "w-4": "a"}
    placed = list(_where(FILE.replace("num_workers: 4", "num_workers: 6")).values())
    assert sorted(placed) == ["a", "a", "a", "b", "b", "c"]  # ties go to the first


def test_capacity_is_a_hard_cap():
    with pytest.raises(ChiaUsageError, match="no capacity left"):
        _where(FILE.replace("num_workers: 4", "num_workers: 11"), "pack")


def test_requires_selects_machines_by_hardware():
    text = FILE + "  f: {resources: {CPU: 1, fpga: 1}, requires: {fpga: 1}}\n"
    assert _where(text, "pack")["f-1"] == "c"
    with pytest.raises(ChiaUsageError, match="no machine matches"):
        _where(text.replace("requires: {fpga: 1}", "requires: {gpu: 1}"))


def test_bare_ips_in_selectors_become_machines_and_head_is_first():
    text = "cluster_name: m\nprovider: {head_ip: 127.0.0.1}\navailable_node_types:\n"
    text += "  s: {num_workers: 2, compatible_ips: [127.0.0.1, 10.1.1.1]}\n"
    plan = make_plan(parse_cluster(text), strategy="spread")
    assert [m.label for m in plan.machines] == ["127.0.0.1", "10.1.1.1"]
    assert plan.head.label == "127.0.0.1" and not plan.head.remote
    assert plan.machines[1].remote


def test_existing_workers_keep_their_machine():
    plan = make_plan(parse_cluster(FILE), strategy="pack", existing={"w-2": "c"})
    where = {w.name: w.machine.label for w in plan.workers}
    assert where == {"w-1": "a", "w-2": "c", "w-3": "a", "w-4": "a"}
