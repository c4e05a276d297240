"""The ``Cache`` actor created directly, as flows written for CHIA create it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import ray

from chia.base._ray_util import current_node_id, pinned_to
from chia.base.cache import UNITS, Cache, load_cache_config
from chia.base.ChiaFunction import chia_actor, get
from chia.errors import ChiaUsageError

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def actors(ray_local: None) -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for actor in made:
        ray.kill(actor)


def _new(actors: list[Any], directory: Path, budget: int, config: object = None) -> Any:
    pin = pinned_to(current_node_id())
    actor = Cache.options(scheduling_strategy=pin).remote(str(directory), budget, config)
    actors.append(actor)
    return actor


def test_store_evict_flush_and_lru_by_bytes(actors: list[Any], tmp_path: Path) -> None:
    c = _new(actors, tmp_path, 1 * UNITS["KB"])
    cache = chia_actor(c)
    assert get(cache.write.chia_remote("k0", "x" * 400)) is True
    assert get(cache.write.chia_remote("k1", "x" * 400)) is True
    assert get(cache.read.chia_remote("nope")) == (False, None)
    assert get(cache.read.chia_remote("k0")) == (True, "x" * 400)  # k1 is now the LRU
    assert get(cache.write.chia_remote("k2", "x" * 400)) is True
    assert get(cache.keys.chia_remote()) == ["k0", "k2"]
    assert not get(cache.has.chia_remote("k1"))
    assert 800 < get(cache.size_bytes.chia_remote()) <= 1024
    # One value larger than the whole budget is skipped, and evicts nothing.
    assert get(cache.write.chia_remote("big", "x" * 2000)) is False
    assert get(cache.keys.chia_remote()) == ["k0", "k2"]
    assert get(cache.evict.chia_remote("k0")) is True
    assert get(cache.evict.chia_remote("k0")) is False
    assert get(cache.keys.chia_remote()) == ["k2"]
    assert len(list(tmp_path.glob("*.pkl"))) == 1
    get(cache.flush.chia_remote())
    assert get(cache.keys.chia_remote()) == [] and get(cache.size_bytes.chia_remote()) == 0
    assert not list(tmp_path.glob("*.pkl"))


def test_warm_start_from_the_same_directory(actors: list[Any], tmp_path: Path) -> None:
    first = _new(actors, tmp_path, UNITS["MB"], {"fn": True})
    assert ray.get(first.write.remote("kept", {"deep": [1, 2, 3]}))
    ray.kill(first)
    second = _new(actors, tmp_path, UNITS["MB"])
    assert ray.get(second.has.remote("kept"))
    assert ray.get(second.read.remote("kept")) == (True, {"deep": [1, 2, 3]})
    assert ray.get(second.size_bytes.remote()) > 0


def test_config_given_to_the_actor(actors: list[Any], tmp_path: Path) -> None:
    config = {"plain": True, "tagged": ["iter.*"], "entry": {"cache": True, "tags": "w"}}
    c = _new(actors, tmp_path, UNITS["MB"], config)
    got = ray.get(c.get_config.remote())
    assert got == {"plain": True, "tagged": ["iter.*"], "entry": ["w"]}
    assert ray.get(c.is_cached.remote("mod.tagged", "iter3"))
    assert not ray.get(c.is_cached.remote("tagged", "warmup"))


def test_bad_arguments_are_refused_by_the_caller(tmp_path: Path) -> None:
    with pytest.raises(ChiaUsageError, match=r"unknown key\(s\) \['tag'\]"):
        Cache.remote(str(tmp_path), 100, {"fn": {"cache": True, "tag": "iter.*"}})
    with pytest.raises(ChiaUsageError, match="mapping"):
        Cache.remote(str(tmp_path), 100, ["fn"])
    with pytest.raises(ChiaUsageError, match="budget_bytes"):
        Cache.remote(str(tmp_path), -1, {})
    with pytest.raises(ChiaUsageError, match="cache_dir_path"):
        Cache.remote(None, 100, {})


def test_yaml_config_with_tags(tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_text(
        "cache:\n"
        "  shorthand_fn: true\n"
        "  dict_fn: {cache: true}\n"
        "  tagged_fn: {cache: true, tags: ['iter.*', warmup]}\n"
        "  one_tag_fn: {cache: true, tags: 'iter.*'}\n"
        "  disabled_fn: {cache: false}\n"
        "  off_fn: false\n"
    )
    assert load_cache_config(str(path)) == {
        "shorthand_fn": True,
        "dict_fn": True,
        "tagged_fn": ["iter.*", "warmup"],
        "one_tag_fn": ["iter.*"],
    }
    path.write_text("cache:\n  fn: {cache: true, ttl: 5}\n")
    with pytest.raises(ChiaUsageError, match=r"cache\.fn: unknown key\(s\) \['ttl'\]"):
        load_cache_config(str(path))
