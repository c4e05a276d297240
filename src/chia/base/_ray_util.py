"""Small Ray helpers shared by the runtime's actors: namespaces, node ids, pinning."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, cast

import ray
from ray import cloudpickle
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

__all__ = [
    "CHIA_NAMESPACE",
    "cloudpickle_dumps",
    "cloudpickle_loads",
    "current_node_id",
    "get_named_actor",
    "head_node_id",
    "kill_named_actor",
    "pinned_to",
    "ray_nodes",
    "resource_demands",
]

CHIA_NAMESPACE = "chia"
"""Explicit namespace of chia's named actors, so other jobs and workers can find them."""

_HEAD_RESOURCE = "node:__internal_head__"


def ray_nodes() -> list[dict[str, Any]]:
    """``ray.nodes()`` with a type: one dict per node, dead ones included."""
    return cast(list[dict[str, Any]], ray.nodes())  # type: ignore[no-untyped-call]


def cloudpickle_dumps(obj: Any) -> bytes:
    """Pickle ``obj`` with Ray's cloudpickle (functions and closures by value)."""
    return bytes(cast(Callable[[Any], bytes], cloudpickle.dumps)(obj))


def cloudpickle_loads(blob: bytes) -> Any:
    """Unpickle what ``cloudpickle_dumps`` produced."""
    return cloudpickle.loads(blob)


def current_node_id() -> str:
    """Return the hex id of the Ray node this process runs on."""
    return str(ray.get_runtime_context().get_node_id())


def head_node_id() -> str:
    """Return the hex id of the head node (the current node when none is marked head)."""
    for node in ray_nodes():
        if node.get("Alive") and _HEAD_RESOURCE in node.get("Resources", {}):
            return str(node["NodeID"])
    return current_node_id()


def pinned_to(node_id: str, soft: bool = False) -> NodeAffinitySchedulingStrategy:
    """Return a scheduling strategy that places a task or actor on ``node_id``."""
    return NodeAffinitySchedulingStrategy(node_id=node_id, soft=soft)


def get_named_actor(name: str, namespace: str) -> Any | None:
    """Return the named actor's handle, or None when no such actor is alive."""
    try:
        return ray.get_actor(name, namespace=namespace)
    except ValueError:
        return None


def pinned_singleton(
    cls: type[Any],
    name: str,
    namespace: str,
    node_id: str,
    *args: Any,
    soft: bool = False,
    max_concurrency: int | None = None,
    **kwargs: Any,
) -> Any:
    """Return the named detached actor, creating it pinned to ``node_id`` if needed.

    Every chia service actor (cache, KV store, PID registry, profile collector, dispatch
    proxy) is one of these: named, detached, ``num_cpus=0`` and pinned to a node.
    ``args``/``kwargs`` go to the constructor only when a new actor is created.
    """
    existing = get_named_actor(name, namespace)
    if existing is not None:
        return existing
    options: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "lifetime": "detached",
        "get_if_exists": True,
        "num_cpus": 0,
        "scheduling_strategy": pinned_to(node_id, soft=soft),
    }
    if max_concurrency is not None:
        options["max_concurrency"] = max_concurrency
    actor_cls: Any = ray.remote(cls)
    return actor_cls.options(**options).remote(*args, **kwargs)


def kill_named_actor(name: str, namespace: str, timeout: float = 10.0) -> bool:
    """Kill the named actor and wait until its name is free; False if there was none."""
    handle = get_named_actor(name, namespace)
    if handle is None:
        return False
    ray.kill(handle)
    deadline = time.monotonic() + timeout
    while get_named_actor(name, namespace) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def resource_demands(opts: dict[str, Any]) -> dict[str, float]:
    """The resources a task with Ray options ``opts`` asks for (tasks default to 1 CPU)."""
    demands = {str(k): float(v) for k, v in (opts.get("resources") or {}).items()}
    demands["CPU"] = float(opts.get("num_cpus", 1) or 0)
    demands["GPU"] = float(opts.get("num_gpus", 0) or 0)
    demands["memory"] = float(opts.get("memory", 0) or 0)
    return {k: v for k, v in demands.items() if v > 0}
