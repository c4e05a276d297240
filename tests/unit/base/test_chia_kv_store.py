from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import ray
from ray.util.state import get_actor as get_actor_state

from chia.base.chia_kv_store import get_or_create_kv_store, parse_value, query_kv

pytestmark = pytest.mark.timeout(90)

CHIA = str(Path(sys.executable).parent / "chia")


def unique() -> str:
    return f"knobs-{uuid.uuid4().hex[:8]}"


def test_create_then_attach_ignores_new_defaults(ray_local: None) -> None:
    name = unique()
    handle = get_or_create_kv_store(name, "kvtest", num_parallel=2, stage="warmup")
    assert query_kv(handle, "num_parallel") == 2
    again = get_or_create_kv_store(name, "kvtest", num_parallel=99)
    assert query_kv(again, "num_parallel") == 2
    ray.get(again.set.remote("stage", "main"))
    assert query_kv(handle, "stage") == "main"
    info = get_actor_state(handle._actor_id.hex(), address=ray.get_runtime_context().gcs_address)
    assert info.node_id == ray.get_runtime_context().get_node_id()
    assert info.name == name and info.ray_namespace == "kvtest"
    ray.kill(handle)


def test_query_kv_never_raises(ray_local: None) -> None:
    assert query_kv(None, "k", default="d") == "d"
    handle = get_or_create_kv_store(unique(), "kvtest")
    assert query_kv(handle, "missing", default=7) == 7
    ray.kill(handle)
    assert query_kv(handle, "k", default="dead", timeout=5) == "dead"


def test_parse_value() -> None:
    assert parse_value("4") == 4
    assert parse_value("true") is True
    assert parse_value('"4"') == "4"
    assert parse_value("warmup") == "warmup"
    assert parse_value('{"a": [1]}') == {"a": [1]}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60)


def test_module_cli_and_chia_kv_set_and_get(ray_local: None) -> None:
    name = unique()
    gcs = ray.get_runtime_context().gcs_address
    handle = get_or_create_kv_store(name, "kvtest", num_parallel=2)
    module = [sys.executable, "-m", "chia.base.chia_kv_store", "--address", gcs]
    done = run(*module, "--name", name, "--namespace", "kvtest", "--set", "num_parallel", "4")
    assert done.returncode == 0, done.stderr
    assert query_kv(handle, "num_parallel") == 4  # the live driver sees the operator's change
    done = run(*module, "--name", name, "--namespace", "kvtest", "--get", "num_parallel")
    assert done.returncode == 0 and json.loads(done.stdout) == 4

    base = ["--name", name, "--namespace", "kvtest", "--address", gcs]
    done = run(CHIA, "kv", "set", "stage", "final", *base)
    assert done.returncode == 0, done.stderr
    assert query_kv(handle, "stage") == "final"
    done = run(CHIA, "kv", "get", "stage", *base)
    assert done.returncode == 0 and json.loads(done.stdout) == "final"

    missing = run(CHIA, "kv", "get", "nope", *base)
    assert missing.returncode == 2 and "not set" in missing.stderr
    no_store = run(
        CHIA, "kv", "get", "k", "--name", "absent", "--namespace", "kvtest", "--address", gcs
    )
    assert no_store.returncode == 2 and "no KV store" in no_store.stderr
    ray.kill(handle)
