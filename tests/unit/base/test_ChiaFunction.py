from __future__ import annotations

import inspect
import os

import pytest
import ray

from chia.base.ChiaFunction import (
    ChiaActorHandle,
    ChiaCallRemote,
    ChiaFunction,
    ObjectRefCallback,
    chia_actor,
    get,
)

pytestmark = pytest.mark.timeout(60)


@ChiaFunction(num_cpus=0.1)
def add(x: int, y: int) -> int:
    return x + y


@ChiaFunction(num_cpus=0.1)
def where() -> int:
    return os.getpid()


@ChiaFunction(num_cpus=0.1, max_retries=0)
def boom(msg: str) -> None:
    raise RuntimeError(msg)


@ChiaFunction(num_cpus=0.1, num_returns=2)
def pair(x: int) -> tuple[int, int]:
    return x, x * 10


@ChiaFunction(num_cpus=0.1)
def nested(x: int) -> int:
    return get(add.chia_remote(x, 1)) * 2


class Tool:
    def __init__(self, factor: int) -> None:
        self.factor = factor

    @ChiaFunction(num_cpus=0.1)
    def do_work(self, x: int) -> int:
        return x * self.factor


@ray.remote(num_cpus=0)
class Store:
    def __init__(self) -> None:
        self.data: dict[str, int] = {}

    def write(self, key: str, value: int) -> None:
        self.data[key] = value

    def size(self) -> int:
        return len(self.data)


def test_direct_call_runs_in_process_without_ray() -> None:
    assert add(1, 2) == 3
    assert where() == os.getpid()
    assert add(1, 2, _chia_tag="t") == 3  # type: ignore[call-arg]


def test_chia_remote_runs_on_a_worker(ray_local: None) -> None:
    ref = add.chia_remote(2, 3)
    assert isinstance(ref, ray.ObjectRef)
    assert get(ref) == 5
    assert get(where.chia_remote()) != os.getpid()


def test_call_remote_and_blocking(ray_local: None) -> None:
    assert get(ChiaCallRemote(add, 4, 5)) == 9
    assert add.chia_remote_blocking(1, y=1) == 2


def test_blocking_callable_looks_like_the_function_for_tool_registration() -> None:
    blocking = add.chia_remote_blocking
    assert blocking.__name__ == "add"
    assert list(inspect.signature(blocking).parameters) == ["x", "y"]


def test_refs_pass_between_nodes_as_edges(ray_local: None) -> None:
    first = add.chia_remote(1, 1)
    assert get(add.chia_remote(first, 10)) == 12


def test_options_override_is_a_copy(ray_local: None) -> None:
    heavier = add.options(num_cpus=0.5, name="add_heavy")
    assert heavier.ray_options["num_cpus"] == 0.5  # type: ignore[attr-defined]
    assert add.ray_options["num_cpus"] == 0.1  # type: ignore[attr-defined]
    assert get(heavier.chia_remote(1, 1)) == 2


def test_num_returns_gives_several_refs(ray_local: None) -> None:
    refs = pair.chia_remote(3)
    assert get(list(refs)) == [3, 30]


def test_bound_method_via_trampoline(ray_local: None) -> None:
    tool = Tool(7)
    assert tool.do_work(2) == 14
    assert get(tool.do_work.chia_remote(tool, x=5)) == 35
    assert tool.do_work.chia_remote_blocking(tool, 1) == 7


def test_nested_dispatch_inside_a_task(ray_local: None) -> None:
    assert get(nested.chia_remote(4)) == 10


def test_remote_exception_propagates(ray_local: None) -> None:
    with pytest.raises(RuntimeError, match="kaput"):
        get(boom.chia_remote("kaput"))


def test_get_callbacks_compose_in_order(ray_local: None) -> None:
    orc = ObjectRefCallback(add.chia_remote(1, 2), lambda v: v * 10)
    assert get(orc) == 30
    orc = ObjectRefCallback(add.chia_remote(1, 2), lambda v: v * 10)
    assert get(orc, callback=lambda v: v + 1) == 31  # own callback first, then callback=
    assert get(add.chia_remote(1, 1), callback=str) == "2"


def test_get_list_mixes_refs_and_callbacks(ray_local: None) -> None:
    refs = [add.chia_remote(1, 1), ObjectRefCallback(add.chia_remote(2, 2), lambda v: -v)]
    assert get(refs) == [2, -4]
    assert get(refs[:1], callback=len) == 1


def test_object_ref_callback_as_argument_passes_its_ref(ray_local: None) -> None:
    orc = ObjectRefCallback(add.chia_remote(1, 1), lambda v: v * 100)
    assert get(add.chia_remote(orc, 1)) == 3


def test_get_timeout(ray_local: None) -> None:
    @ChiaFunction(num_cpus=0.1)
    def slow() -> int:
        import time

        time.sleep(5)
        return 1

    with pytest.raises(ray.exceptions.GetTimeoutError):
        get(slow.chia_remote(), timeout=0.2)


def test_chia_actor_adds_chia_remote_and_is_idempotent(ray_local: None) -> None:
    raw = Store.remote()  # type: ignore[attr-defined]
    store = chia_actor(raw)
    assert isinstance(store, ChiaActorHandle)
    assert chia_actor(store) is store
    get(store.write.chia_remote("a", 1))
    ray.get(store.write.remote("b", 2))
    assert get(store.size.chia_remote()) == 2
    assert store.actor is raw
    ray.kill(store.actor)


def test_chia_attributes_on_wrapped_functions() -> None:
    assert add._chia_original(1, 2) == 3
    assert add._chia_options == {"num_cpus": 0.1}
    tagged = ChiaFunction(num_gpus=None, _chia_tag="t")(Tool.do_work._chia_original)
    assert tagged._chia_options == {"_chia_tag": "t"}  # None options are dropped
    assert Tool(2).do_work._chia_original is Tool.do_work._chia_original
    assert add.options(num_cpus=None).ray_options == {"num_cpus": 0.1}  # type: ignore[attr-defined]


def test_call_remote_on_an_undecorated_function_is_a_type_error() -> None:
    def undecorated(x: int) -> int:
        return x

    with pytest.raises(TypeError, match="undecorated is not decorated with @ChiaFunction"):
        ChiaCallRemote(undecorated, 1)  # type: ignore[arg-type]


def test_options_handle_has_remote_and_display_name_is_reserved(ray_local: None) -> None:
    assert get(add.options(num_cpus=0.2).remote(1, 2)) == 3
    assert get(add.chia_remote(1, 2, _chia_display_name="sum")) == 3  # type: ignore[call-arg]
    assert add(1, 2, _chia_display_name="sum") == 3  # type: ignore[call-arg]
