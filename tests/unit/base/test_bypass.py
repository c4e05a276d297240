from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray

from chia.base import bypass as bypass_mod
from chia.base.bypass import Bypass, get_active_bypass
from chia.base.ChiaFunction import ChiaFunction, get
from chia.errors import ChiaUsageError

pytestmark = pytest.mark.timeout(60)


@ChiaFunction(num_cpus=0.1, resources={"bp_slot": 1})
def expensive(x: int) -> dict[str, object]:
    return {"real": True, "x": x, "node": ray.get_runtime_context().get_node_id()}


@ChiaFunction(num_cpus=0.1)
def cheap(x: int) -> dict[str, object]:
    return {"real": True, "x": x}


@ChiaFunction(num_cpus=0.1)
def outer(x: int) -> dict[str, object]:
    return get(cheap.chia_remote(x, _chia_tag=f"inner{x}"))


@ChiaFunction(num_cpus=0.1)
def plain(x: int) -> int:
    return x + 1


def provider(tag: str | None, data_path: str | None, x: int) -> dict[str, object]:
    return {"real": False, "tag": tag, "x": x, "pid_worker": ray.get_runtime_context().worker.mode}


def write_yaml(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bypass.yaml"
    path.write_text(text)
    return str(path)


@pytest.fixture(autouse=True)
def _no_active_bypass() -> Iterator[None]:
    yield
    bypass_mod._active = None


def test_no_yaml_means_nothing_is_bypassed() -> None:
    bp = Bypass()
    assert not bp.active
    assert not bp.is_bypassed("expensive", "t")
    assert get_active_bypass() is bp


def test_yaml_shorthand_data_tags_and_unlisted(tmp_path: Path) -> None:
    data = tmp_path / "d.json"
    data.write_text("{}")
    bp = Bypass(
        write_yaml(
            tmp_path,
            f"""
bypass:
  short: true
  with_data: {{bypass: true, data: {data}}}
  tagged: {{bypass: true, data: {data}, tags: ["iter0_.*", "final"]}}
  off: {{bypass: false, data: {data}}}
""",
        )
    )
    assert bp.active
    assert not bp.is_bypassed("short")  # flag alone: no provider, no data
    bp.set_provider("short", provider)
    assert bp.is_bypassed("short")
    assert bp.is_bypassed("with_data", None)
    assert bp.is_bypassed("tagged", "iter0_opt2")
    assert bp.is_bypassed("tagged", "final")
    assert not bp.is_bypassed("tagged", "xiter0_opt2")  # fullmatch, not search
    assert not bp.is_bypassed("tagged", "finalx")
    assert not bp.is_bypassed("tagged", None)
    assert not bp.is_bypassed("off")
    assert not bp.is_bypassed("unlisted")


def test_provider_resolution_order(tmp_path: Path) -> None:
    bp = Bypass(write_yaml(tmp_path, "bypass:\n  a: {bypass: true, data: /x.json}\n  b: true\n"))
    fn, path = bp.get_provider_info("a")
    assert fn is bypass_mod._default_file_provider and path == "/x.json"
    bp.set_provider("a", provider)
    assert bp.get_provider_info("a") == (provider, "/x.json")
    with pytest.raises(KeyError):
        bp.get_provider_info("b")


def test_condition_is_the_last_gate_and_sees_arguments(tmp_path: Path) -> None:
    seen: list[tuple[object, ...]] = []

    def cond(tag: str | None, data_path: str | None, x: int) -> bool:
        seen.append((tag, data_path, x))
        return x > 5

    bp = Bypass(write_yaml(tmp_path, "bypass:\n  f: {bypass: true, tags: ['go.*']}\n"))
    bp.set_provider("f", provider)
    bp.set_cond("f", cond)
    assert not bp.is_bypassed("f", "stop", 10)
    assert seen == []  # tag gate failed first: the condition never ran
    assert not bp.is_bypassed("f", "go1", 1)
    assert bp.is_bypassed("f", "go1", 9)
    assert seen == [("go1", None, 1), ("go1", None, 9)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bypass:\n  f: 3\n", "expected true/false"),
        ("bypass:\n  f: {bypass: true, dta: x}\n", "unknown key"),
        ("bypass:\n  f: {bypass: true, tags: ['(']}\n", "bad tag pattern"),
        ("bypass: [1, 2]\n", "must be a mapping"),
        ("bypass: {f: {bypass: yes please}}\n", "must be true or false"),
    ],
)
def test_bad_yaml_is_a_usage_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ChiaUsageError, match=message):
        Bypass(write_yaml(tmp_path, text))


def test_missing_yaml_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ChiaUsageError, match="not found"):
        Bypass(str(tmp_path / "nope.yaml"))


def test_state_round_trip_and_unpicklable_closure(tmp_path: Path) -> None:
    bp = Bypass(write_yaml(tmp_path, "bypass:\n  f: {bypass: true, tags: [t1]}\n"))
    bp.set_provider("f", provider)
    clone = Bypass._from_state(bp.get_state())
    assert clone.is_bypassed("f", "t1") and not clone.is_bypassed("f", "t2")
    assert get_active_bypass() is bp  # restoring a state does not steal "active"

    lock = threading.Lock()
    bp.set_provider("f", lambda tag, data, *a: lock.locked())
    with pytest.raises(TypeError, match="provider for 'f' cannot be pickled"):
        bp.get_state()


def test_bypassed_call_runs_provider_on_a_worker_with_same_options(
    ray_local: None, tmp_path: Path
) -> None:
    bp = Bypass(write_yaml(tmp_path, "bypass:\n  plain: {bypass: true, tags: ['fake.*']}\n"))
    bp.set_provider(
        "plain", lambda tag, data, x: ("bypassed", tag, x, ray.get_runtime_context().worker.mode)
    )
    assert get(plain.chia_remote(1, _chia_tag="real")) == 2
    tag, mode = "fake1", ray.WORKER_MODE
    assert get(plain.chia_remote(1, _chia_tag=tag)) == ("bypassed", tag, 1, mode)


def test_bypass_keeps_resource_demands(ray_local: None, tmp_path: Path) -> None:
    bp = Bypass(write_yaml(tmp_path, "bypass:\n  expensive: true\n"))
    bp.set_provider("expensive", provider)
    ref = expensive.chia_remote(1)  # needs bp_slot, which no node has
    ready, _ = ray.wait([ref], timeout=1.0)
    assert ready == []  # still pending: the stand-in asks for the same resources
    ray.cancel(ref)
    fits = expensive.options(resources={})
    assert get(fits.chia_remote(2))["real"] is False


def test_nested_dispatch_obeys_the_callers_bypass(ray_local: None, tmp_path: Path) -> None:
    bp = Bypass(write_yaml(tmp_path, "bypass:\n  cheap: {bypass: true, tags: ['inner.*']}\n"))
    bp.set_provider("cheap", provider)
    result = get(outer.chia_remote(3))
    assert result == {"real": False, "tag": "inner3", "x": 3, "pid_worker": ray.WORKER_MODE}


def test_data_file_served_from_the_owning_node(ray_local: None, tmp_path: Path) -> None:
    data = tmp_path / "recorded.json"
    data.write_text(json.dumps({"recorded": [1, 2]}))
    text = tmp_path / "recorded.txt"
    text.write_text("hello")
    bp = Bypass(write_yaml(tmp_path, f"bypass:\n  plain: {{bypass: true, data: {data}}}\n"))
    assert get(plain.chia_remote(1)) == {"recorded": [1, 2]}
    server = bp.file_server()
    assert ray.get(server.get_text.remote(str(text))) == "hello"
    assert ray.get(server.node_id.remote()) == ray.get_runtime_context().get_node_id()


class BuilderA:
    @ChiaFunction(num_cpus=0.1)
    def build(self) -> str:
        return "A real"


class BuilderB:
    @ChiaFunction(num_cpus=0.1)
    def build(self) -> str:
        return "B real"


def replay(tag: str | None, data_path: str | None, *args: object) -> str:
    return "replayed"


def test_qualified_name_wins_and_bare_name_matches_every_class(
    ray_local: None, tmp_path: Path
) -> None:
    a, b = BuilderA(), BuilderB()
    qualified = Bypass(write_yaml(tmp_path, "bypass:\n  BuilderA.build: true\n"))
    qualified.set_provider("BuilderA.build", replay)
    assert get(BuilderA.build.chia_remote(a)) == "replayed"
    assert get(BuilderB.build.chia_remote(b)) == "B real"
    bare = Bypass(write_yaml(tmp_path, "bypass:\n  build: true\n"))
    bare.set_provider("build", replay)
    assert bare.is_bypassed("BuilderB.build")
    assert get(BuilderB.build.chia_remote(b)) == "replayed"


def test_chia_flag_and_tag_tables_read_and_assign(tmp_path: Path) -> None:
    text = "bypass:\n  a: true\n  b:\n    bypass: true\n    tags: ['x.*']\n  c: false\n"
    bypass = Bypass(write_yaml(tmp_path, text))
    assert bypass._bypass == {"a": True, "b": True, "c": False}
    assert bypass._tag_patterns == {"b": ["x.*"]}
    bypass.set_provider("b", replay)
    fresh = Bypass()
    fresh._bypass = bypass._bypass
    fresh._tag_patterns = bypass._tag_patterns
    fresh.set_provider("b", replay)
    assert fresh.active and fresh.is_bypassed("b", "x1") and not fresh.is_bypassed("b", "y")
