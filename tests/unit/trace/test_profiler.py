from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from chia.base import bypass as bypass_mod
from chia.base.bypass import Bypass
from chia.base.cache import start_cache, stop_cache
from chia.base.ChiaFunction import ChiaFunction, get
from chia.trace.profiler import (
    LOG_FILE,
    RECORD_FIELDS,
    ProfileCollectorActor,
    active_collector,
    get_collector,
    get_profiler,
    start_collector,
    stop_collector,
)
from chia.trace.records import read_records

pytestmark = pytest.mark.timeout(60)


@ChiaFunction(num_cpus=0.1)
def leaf(x: int) -> int:
    return x * 2


@ChiaFunction(num_cpus=0.1)
def parent(x: int) -> int:
    return get(leaf.chia_remote(x)) + get(leaf.chia_remote(x + 1))


@ChiaFunction(num_cpus=0.1, max_retries=0)
def broken() -> None:
    raise ValueError("bad")


@pytest.fixture
def collector(ray_local: None, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "profile.jsonl"
    start_collector(str(path))
    yield path
    stop_collector()
    stop_cache()
    bypass_mod._active = None


def wait_records(path: Path, count: int) -> list:  # type: ignore[type-arg]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        records = read_records(path) if path.exists() else []
        if len(records) >= count:
            return records
        time.sleep(0.05)
    raise AssertionError(f"expected {count} records in {path}")


def test_records_every_dispatch_with_caller_edges(collector: Path) -> None:
    assert active_collector() is not None
    assert get(parent.chia_remote(1)) == 2 + 4
    records = wait_records(collector, 3)
    by_fn = {r.function: r for r in records}
    assert by_fn["parent"].caller == "driver"
    leaves = [r for r in records if r.function == "leaf"]
    assert len(leaves) == 2
    assert all(r.caller == "parent" and r.caller_task == by_fn["parent"].task_id for r in leaves)
    node = ray.get_runtime_context().get_node_id()
    assert all(r.node_id == node and r.worker_id and r.end >= r.start for r in records)
    assert by_fn["parent"].start <= min(r.start for r in leaves)


def test_records_bypassed_cached_and_failed(collector: Path, tmp_path: Path) -> None:
    config = tmp_path / "flow.yaml"
    config.write_text(
        "bypass:\n  leaf: {bypass: true, tags: ['fake']}\n"
        "cache:\n  leaf: {cache: true, tags: ['keep']}\n"
    )
    start_cache(1, str(tmp_path / "cache"), units="MB", yaml_path=str(config))
    bp = Bypass(str(config))
    bp.set_provider("leaf", lambda tag, data, x: -x)
    assert get(leaf.chia_remote(3, _chia_tag="fake")) == -3
    assert get(leaf.chia_remote(3, _chia_tag="keep")) == 6
    with pytest.raises(ValueError):
        get(broken.chia_remote())
    records = {(r.function, r.tag): r for r in wait_records(collector, 3)}
    assert records[("leaf", "fake")].bypassed and not records[("leaf", "fake")].cached
    assert records[("leaf", "keep")].cached and not records[("leaf", "keep")].bypassed
    failed = records[("broken", None)]
    assert not failed.ok and "ValueError: bad" in (failed.error or "")


def test_stop_turns_profiling_off(collector: Path) -> None:
    assert stop_collector() == str(collector)
    assert get_collector() is None and active_collector() is None
    get(leaf.chia_remote(1))
    time.sleep(0.3)
    assert not collector.exists() or read_records(collector) == []
    assert stop_collector() is None


def touch(path: str) -> None:
    Path(path).write_text("set up", encoding="utf-8")


def test_a_replaced_collector_gets_the_next_records(ray_local: None, tmp_path: Path) -> None:
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    for path, x in ((first, 1), (second, 2)):
        start_collector(str(path))
        assert get(leaf.chia_remote(x)) == 2 * x
        stop_collector()
    assert [r.function for r in read_records(first)] == ["leaf"]
    assert [r.function for r in read_records(second)] == ["leaf"]


def test_profiled_calls_keep_hooks_and_a_calls_own_arguments(
    collector: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "setup"
    hooked = leaf.options(_chia_setup=touch, _chia_setup_args=(str(marker),))
    assert get(hooked.chia_remote(x=4)) == 8
    assert marker.read_text(encoding="utf-8") == "set up"
    records = wait_records(collector, 1)
    assert records[0].function == "leaf" and records[0].caller == "driver"


def test_the_collector_writes_dicts_and_field_tuples(tmp_path: Path) -> None:
    actor = ProfileCollectorActor(str(tmp_path / "p.jsonl"))
    row = ("f", None, "t1", "n", "w", 1.0, 2.0, False, False, "driver", "", True, None)
    actor.record(dict(zip(RECORD_FIELDS, row, strict=True)))
    actor.record_many([row, row])
    assert actor.count() == 3
    actor.close()
    records = read_records(tmp_path / "p.jsonl")
    assert [(r.function, r.task_id, r.end) for r in records] == [("f", "t1", 2.0)] * 3


def test_chias_log_dir_form_and_profiler_accessor(ray_local: None, tmp_path: Path) -> None:
    assert not get_profiler().enabled
    start_collector(log_dir=str(tmp_path))
    try:
        assert get_profiler().enabled
        get_profiler.reset()  # type: ignore[attr-defined]  # CHIA's reset; nothing to redo
        assert get(leaf.chia_remote(5)) == 10
    finally:
        assert stop_collector() == str(tmp_path / LOG_FILE)
    assert [r.function for r in read_records(tmp_path / LOG_FILE)] == ["leaf"]
    start_collector(str(tmp_path))  # a directory as the first argument, as CHIA takes it
    assert stop_collector() == str(tmp_path / LOG_FILE)
