"""A detached Ray actor holding small key/value state the cluster reads and writes live.

Use it for operator-adjustable knobs (concurrency, feature flags, rate limits) without
rebuilding detached-actor scaffolding each time. Values persist across pipeline restarts
while the cluster is up::

    from chia.base.chia_kv_store import get_or_create_kv_store, query_kv

    handle = get_or_create_kv_store(
        name="my_pipeline_knobs", namespace="my_pipeline", num_parallel=2, stage="warmup"
    )
    n = query_kv(handle, "num_parallel", default=2)

An operator adjusts values from any machine with Ray access::

    python -m chia.base.chia_kv_store --name knobs --namespace my_pipeline --set num_parallel 4
    python -m chia.base.chia_kv_store --name knobs --namespace my_pipeline --get num_parallel

(``chia kv get|set`` does the same.)

Values given on the command line are parsed as JSON when they are valid JSON (``4`` is
an int, ``true`` a bool, ``"4"`` a string) and kept as plain strings otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

import ray

from chia.base._ray_util import current_node_id, get_named_actor, pinned_singleton
from chia.errors import ChiaUsageError

__all__ = [
    "ChiaKVStore",
    "get_or_create_kv_store",
    "kv_get",
    "kv_set",
    "main",
    "parse_value",
    "query_kv",
]


class ChiaKVStore:
    """The actor: a dict with get/set/delete.

    Args:
        **defaults: Initial values.
    """

    def __init__(self, **defaults: Any) -> None:
        self._data: dict[str, Any] = dict(defaults)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the value of ``key`` or ``default``."""
        return self._data.get(key, default)

    def lookup(self, key: str) -> tuple[bool, Any]:
        """Return ``(True, value)`` when ``key`` is set, else ``(False, None)``."""
        return (True, self._data[key]) if key in self._data else (False, None)

    def set(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``."""
        self._data[key] = value

    def delete(self, key: str) -> bool:
        """Remove ``key``; True if it was there."""
        return self._data.pop(key, _MISSING) is not _MISSING

    def items(self) -> dict[str, Any]:
        """A copy of every key/value pair."""
        return dict(self._data)


_MISSING = object()


def get_or_create_kv_store(name: str, namespace: str, **defaults: Any) -> Any:
    """Attach to the detached actor if it exists, otherwise create it on this node.

    The actor is pinned (``NodeAffinitySchedulingStrategy``) to the node this call runs
    on; from a pipeline driver on the head, that is the head.

    Args:
        name: Ray actor name.
        namespace: Ray actor namespace.
        **defaults: Initial values, used only when a fresh actor is created.

    Returns:
        A Ray ActorHandle to the ChiaKVStore.
    """
    return pinned_singleton(ChiaKVStore, name, namespace, current_node_id(), **defaults)


def query_kv(handle: Any, key: str, default: Any = None, timeout: float = 60.0) -> Any:
    """Read ``key`` from the actor with a hard timeout; never raises.

    Any failure (no handle, dead actor, timeout, serialization error) or a missing key
    returns ``default``, so a hot loop never wedges on a broken actor.

    Args:
        handle: ActorHandle from ``get_or_create_kv_store()``, or None.
        key: Key to read.
        default: Value returned on any error, timeout, or missing key.
        timeout: Hard timeout in seconds for the underlying ``ray.get``.
    """
    if handle is None:
        return default
    try:
        return ray.get(handle.get.remote(key, default), timeout=timeout)
    except Exception:
        return default


def parse_value(text: str) -> Any:
    """Parse a command-line value: JSON when valid, else the string itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _connect(address: str | None) -> None:
    if not ray.is_initialized():
        ray.init(address=address or "auto", log_to_driver=False, logging_level=logging.ERROR)


def kv_get(name: str, namespace: str, key: str, address: str | None = None) -> Any:
    """Connect to the cluster and return ``key`` from an existing store.

    Raises:
        ChiaUsageError: If no store with that name exists, or the key is not set.
    """
    _connect(address)
    handle = get_named_actor(name, namespace)
    if handle is None:
        raise ChiaUsageError(f"no KV store named {name!r} in namespace {namespace!r}")
    found, value = ray.get(handle.lookup.remote(key), timeout=60)
    if not found:
        raise ChiaUsageError(f"key {key!r} is not set in KV store {name!r}")
    return value


def kv_set(name: str, namespace: str, key: str, value: Any, address: str | None = None) -> None:
    """Connect to the cluster and set ``key`` (creating the store if needed)."""
    _connect(address)
    handle = get_or_create_kv_store(name, namespace)
    ray.get(handle.set.remote(key, value), timeout=60)


def main(argv: list[str] | None = None) -> int:
    """``python -m chia.base.chia_kv_store``: get or set one key. Returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m chia.base.chia_kv_store")
    parser.add_argument("--name", required=True, help="actor name of the store")
    parser.add_argument("--namespace", required=True, help="Ray namespace of the store")
    parser.add_argument("--address", default=None, help="Ray address (default: auto)")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--get", metavar="KEY")
    action.add_argument("--set", nargs=2, metavar=("KEY", "VALUE"))
    args = parser.parse_args(argv)
    try:
        if args.get is not None:
            print(json.dumps(kv_get(args.name, args.namespace, args.get, args.address)))
        else:
            key, value = args.set
            kv_set(args.name, args.namespace, key, parse_value(value), args.address)
    except ChiaUsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
