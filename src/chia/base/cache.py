"""Head-node output cache for ChiaFunction tasks.

A small key/value store, pinned to the head node as a Ray actor, that pickles arbitrary
Python objects keyed by a string tag, with an LRU byte budget and a warm-start scan from
disk. It works with ``chia.base.bypass``:

* Write is automatic. A function marked ``cache: true`` in the YAML has its real-run
  output written to the cache by ``ChiaFunction`` (via an ``ObjectRefCallback`` that
  fires when ``get()`` resolves the result), keyed by the call's ``_chia_tag``.
* Read is manual, via bypass. Register a bypass provider that reads the value back::

      def cache_provider(tag, data_path, *args, **kwargs):
          hit, value = ray.get(get_active_cache().read.remote(tag))
          if not hit:
              raise KeyError(f"cache miss for tag {tag!r}")
          return value

Cache = write-through populate; bypass = read path. They share the tag. YAML::

    cache:
      run_verilator_test:
        cache: true
        tags: ["iter.*"]    # optional; mirror bypass tag patterns
      build_megaboom: true  # shorthand
"""

from __future__ import annotations

import logging
from typing import Any

import ray

from chia.base._cache_store import DiskLRU
from chia.base._ray_util import (
    CHIA_NAMESPACE,
    get_named_actor,
    head_node_id,
    kill_named_actor,
    pinned_singleton,
)
from chia.base._rules import Rule, load_rules
from chia.errors import ChiaUsageError

__all__ = ["UNITS", "Cache", "get_active_cache", "is_cached", "start_cache", "stop_cache"]

log = logging.getLogger(__name__)

CACHE_NAME = "chia_cache"
UNITS: dict[str, int] = {
    "B": 1,
    "KB": 1024,
    "MB": 1024**2,
    "GB": 1024**3,
    "TB": 1024**4,
}
_namespace = CHIA_NAMESPACE


class Cache:
    """The cache actor: a ``DiskLRU`` plus the ``cache:`` rules of the YAML.

    Args:
        cache_dir_path: Directory for the pickle files (on the head node).
        budget_bytes: LRU byte budget.
        rules: Per-function ``cache:`` rules.
    """

    def __init__(self, cache_dir_path: str, budget_bytes: int, rules: dict[str, Rule]) -> None:
        self._store = DiskLRU(cache_dir_path, budget_bytes)
        self._rules = rules

    def write(self, tag: str, value: Any) -> bool:
        """Store ``value`` under ``tag``; False when it alone exceeds the budget."""
        return self._store.write(tag, value)

    def read(self, tag: str) -> tuple[bool, Any]:
        """Return ``(hit, value)``."""
        return self._store.read(tag)

    def has(self, tag: str) -> bool:
        """True when ``tag`` is cached."""
        return self._store.has(tag)

    def size_bytes(self) -> int:
        """Bytes of pickles currently kept."""
        return self._store.size_bytes()

    def keys(self) -> list[str]:
        """Cached tags, least recently used first."""
        return self._store.keys()

    def is_cached(self, func_name: str, tag: str | None) -> bool:
        """True when the rules say this call's output should be cached."""
        rule = self._rules.get(func_name)
        return rule is not None and rule.enabled and tag is not None and rule.matches(tag)

    def config(self) -> dict[str, Any]:
        """The cache's directory, budget and rules."""
        return {
            "cache_dir_path": str(self._store.directory),
            "budget_bytes": self._store.budget_bytes,
            "rules": dict(self._rules),
        }


def start_cache(
    size: float,
    cache_dir_path: str,
    units: str = "B",
    yaml_path: str | None = None,
    namespace: str | None = None,
) -> Any:
    """Create (or find) the head-pinned cache actor. Idempotent.

    Call from the driver after ``ray.init()``. The actor is detached, so it is reachable
    from workers in other Ray jobs, and named in an explicit namespace.

    Args:
        size: Numeric budget; multiplied by ``UNITS[units]`` to get bytes.
        cache_dir_path: Directory for the pickle files (on the head node).
        units: One of ``UNITS`` (default ``"B"``).
        yaml_path: Optional bypass/cache YAML; its ``cache:`` section opts functions into
            automatic caching.
        namespace: Optional Ray namespace for the named actor (default ``"chia"``).

    Returns:
        The ``Cache`` actor handle.

    Raises:
        ChiaUsageError: For an unknown unit or a non-positive size.
    """
    global _namespace
    if units not in UNITS:
        raise ChiaUsageError(f"unknown cache size unit {units!r}; use one of {sorted(UNITS)}")
    if size <= 0:
        raise ChiaUsageError(f"cache size must be positive, got {size}")
    rules = load_rules(yaml_path, "cache", False) if yaml_path else {}
    ns = namespace or CHIA_NAMESPACE
    _namespace = ns
    return pinned_singleton(
        Cache, CACHE_NAME, ns, head_node_id(), cache_dir_path, int(size * UNITS[units]), rules
    )


def stop_cache(namespace: str | None = None) -> None:
    """Kill the cache actor. Idempotent; the pickles on disk are kept for a warm start."""
    kill_named_actor(CACHE_NAME, namespace or _namespace)


def get_active_cache(namespace: str | None = None) -> Any | None:
    """Return the cache actor handle, or None if no cache was started.

    Always resolves the current named actor (no process-local handle is kept), so a
    worker reaches the cache with no state threading and a restarted cache is found.
    """
    return get_named_actor(CACHE_NAME, namespace or _namespace)


def is_cached(func_name: str, tag: str | None = None) -> bool:
    """Should ``func_name``'s output be cached on this call?

    True only when the function is configured ``cache: true`` and, if ``tags:`` patterns
    are present, ``tag`` fullmatches one. The config is read from the actor (the source
    of truth), so it never goes stale across a cache restart.
    """
    if tag is None:
        return False
    cache = get_active_cache()
    if cache is None:
        return False
    try:
        return bool(ray.get(cache.is_cached.remote(func_name, tag)))
    except ray.exceptions.RayActorError:
        return False


class CacheWrite:
    """The post-resolution hook that writes a tagged call's value to the cache."""

    __slots__ = ("namespace", "tag")

    def __init__(self, tag: str, namespace: str | None = None) -> None:
        self.tag = tag
        self.namespace = namespace or _namespace

    def __call__(self, value: Any) -> Any:
        """Write ``value`` under the tag (best effort) and return it unchanged."""
        cache = get_active_cache(self.namespace)
        if cache is None:
            log.warning("cache is gone; not caching tag %r", self.tag)
            return value
        try:
            if not ray.get(cache.write.remote(self.tag, value)):
                log.warning("value for tag %r exceeds the cache budget; not cached", self.tag)
        except ray.exceptions.RayError as exc:
            log.warning("could not cache tag %r: %s", self.tag, exc)
        return value
