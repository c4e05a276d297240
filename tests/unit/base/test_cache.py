from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import ray
from ray.util.state import get_actor as get_actor_state

from chia.base import bypass as bypass_mod
from chia.base.bypass import Bypass
from chia.base.cache import get_active_cache, is_cached, start_cache, stop_cache
from chia.base.ChiaFunction import (
    ChiaActorHandle,
    ChiaFunction,
    ObjectRefCallback,
    chia_actor,
    get,
)
from chia.errors import ChiaUsageError

pytestmark = pytest.mark.timeout(60)

CALLS: list[int] = []


@ChiaFunction(num_cpus=0.1)
def simulate(x: int) -> dict[str, int]:
    return {"x": x, "pid": __import__("os").getpid()}


@ChiaFunction(num_cpus=0.1)
def not_cached(x: int) -> int:
    return x


def cache_provider(tag: str | None, data_path: str | None, *args: object) -> object:
    hit, value = ray.get(get_active_cache().read.remote(tag))  # type: ignore[union-attr]
    if not hit:
        raise KeyError(f"cache miss for tag {tag!r}")
    return value


def cache_hit(tag: str | None, data_path: str | None, *args: object) -> bool:
    return bool(ray.get(get_active_cache().has.remote(tag)))  # type: ignore[union-attr]


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "flow.yaml"
    path.write_text(
        "bypass:\n  simulate: true\n"
        "cache:\n  simulate: {cache: true, tags: ['iter.*']}\n  not_cached: false\n"
    )
    return str(path)


@pytest.fixture
def cache_dir(ray_local: None, tmp_path: Path) -> Iterator[Path]:
    stop_cache()
    yield tmp_path / "cache"
    stop_cache()
    bypass_mod._active = None


def test_bad_units_and_size(cache_dir: Path) -> None:
    with pytest.raises(ChiaUsageError, match="unit"):
        start_cache(1, str(cache_dir), units="parsecs")
    with pytest.raises(ChiaUsageError, match="positive"):
        start_cache(0, str(cache_dir))


def test_start_is_idempotent_detached_and_head_pinned(cache_dir: Path) -> None:
    assert get_active_cache() is None
    first = start_cache(1, str(cache_dir), units="MB")
    second = start_cache(5, str(cache_dir / "other"), units="GB")
    assert first.actor._actor_id == second.actor._actor_id
    config = ray.get(get_active_cache().config.remote())  # type: ignore[union-attr]
    assert config["budget_bytes"] == 1024**2
    actor_id = first.actor._actor_id.hex()
    info = get_actor_state(actor_id, address=ray.get_runtime_context().gcs_address)
    assert info.name == "chia_cache" and info.ray_namespace == "chia"
    assert info.node_id == ray.get_runtime_context().get_node_id()  # the head
    # Detached: another job (a separate driver) can find it by name.
    stop_cache()
    assert get_active_cache() is None
    stop_cache()  # idempotent


def test_start_and_get_active_return_chia_actor_handles(cache_dir: Path) -> None:
    cache = start_cache(1, str(cache_dir), units="MB")
    assert isinstance(cache, ChiaActorHandle) and chia_actor(cache) is cache
    assert get(cache.write.chia_remote("k", {"v": 1}))
    assert ray.get(cache.has.remote("k"))  # Ray's remote still works
    active = get_active_cache()
    assert isinstance(active, ChiaActorHandle)
    assert get(active.read.chia_remote("k")) == (True, {"v": 1})
    assert active.actor._actor_id == cache.actor._actor_id


class Model:
    @ChiaFunction(num_cpus=0.1)
    def fit(self, x: int) -> int:
        return x + 1


def test_is_cached_takes_qualified_names(cache_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "qual.yaml"
    path.write_text("cache:\n  Model.fit: true\n  simulate: true\n")
    start_cache(1, str(cache_dir), units="MB", yaml_path=str(path))
    assert is_cached("Model.fit", "t") and not is_cached("fit", "t")
    assert is_cached("Sim.simulate", "t")  # the bare name's rule when none is qualified
    assert is_cached("simulate")  # no tags: patterns, no tag given (as CHIA)
    model = Model()
    ref = model.fit.chia_remote(model, 1, _chia_tag="fit1")
    assert isinstance(ref, ObjectRefCallback) and get(ref) == 2
    assert get(get_active_cache().read.chia_remote("fit1")) == (True, 2)  # type: ignore[union-attr]


def test_is_cached_follows_yaml_and_tags(cache_dir: Path, config: str) -> None:
    assert not is_cached("simulate", "iter1")  # no cache running
    start_cache(1, str(cache_dir), units="MB", yaml_path=config)
    assert is_cached("simulate", "iter1")
    assert not is_cached("simulate", "warmup")
    assert not is_cached("simulate", None)
    assert not is_cached("not_cached", "iter1")
    assert not is_cached("unknown", "iter1")


def test_tagged_call_is_written_through_on_get(cache_dir: Path, config: str) -> None:
    start_cache(1, str(cache_dir), units="MB", yaml_path=config)
    ref = simulate.chia_remote(4, _chia_tag="iter4")
    assert isinstance(ref, ObjectRefCallback)
    cache = get_active_cache()
    assert not ray.get(cache.has.remote("iter4"))  # type: ignore[union-attr]  # only on get
    value = get(ref)
    assert value["x"] == 4
    assert ray.get(cache.read.remote("iter4")) == (True, value)  # type: ignore[union-attr]
    untagged = simulate.chia_remote(5)
    assert not isinstance(untagged, ObjectRefCallback)
    get(simulate.chia_remote(6, _chia_tag="warmup"))
    assert ray.get(cache.keys.remote()) == ["iter4"]  # type: ignore[union-attr]


def test_replay_through_bypass_and_warm_start_after_stop(cache_dir: Path, config: str) -> None:
    start_cache(1, str(cache_dir), units="MB", yaml_path=config)
    bp = Bypass(config)
    bp.set_provider("simulate", cache_provider)
    bp.set_cond("simulate", cache_hit)
    first = get(simulate.chia_remote(7, _chia_tag="iter7"))  # miss: runs for real, cached
    stop_cache()  # nothing on disk is lost
    assert list(cache_dir.glob("*.pkl"))
    start_cache(1, str(cache_dir), units="MB", yaml_path=config)
    replay = get(simulate.chia_remote(7, _chia_tag="iter7"))
    assert replay == first  # same pid: the recorded value, not a re-run
    fresh = get(simulate.chia_remote(8, _chia_tag="iter8"))
    assert fresh["x"] == 8


def sentinel_provider(tag: str | None, data_path: str | None, *args: object) -> object:
    return {"x": -1, "pid": 0}


def test_a_bypassed_value_is_cached_too(cache_dir: Path, config: str) -> None:
    start_cache(1, str(cache_dir), units="MB", yaml_path=config)
    Bypass(config).set_provider("simulate", sentinel_provider)
    assert get(simulate.chia_remote(9, _chia_tag="iter9")) == {"x": -1, "pid": 0}
    cache = get_active_cache()
    assert ray.get(cache.read.remote("iter9")) == (True, {"x": -1, "pid": 0})  # type: ignore[union-attr]
