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
import os
from typing import Any

import ray

from chia.base._actor import ChiaActorHandle, chia_actor
from chia.base._cache_store import DiskLRU
from chia.base._ray_util import (
    CHIA_NAMESPACE,
    get_named_actor,
    head_node_id,
    kill_named_actor,
    pinned_singleton,
)
from chia.base._rules import Rule, load_rules, rules_from_config
from chia.errors import ChiaUsageError

__all__ = [
    "UNITS",
    "Cache",
    "CacheActor",
    "get_active_cache",
    "is_cached",
    "load_cache_config",
    "start_cache",
    "stop_cache",
]

log = logging.getLogger(__name__)

CACHE_NAME = "chia_cache"
UNITS: dict[str, int] = {
    "B": 1,
    "KB": 1024,
    "MB": 1024**2,
    "GB": 1024**3,
    "TB": 1024**4,
    "KIB": 1024,
    "MIB": 1024**2,
    "GIB": 1024**3,
    "TIB": 1024**4,
}
"""Multipliers from a size unit (case-insensitive) to bytes; all are powers of 1024."""
_namespace = CHIA_NAMESPACE


def _config_form(rule: Rule) -> bool | list[str]:
    return list(rule.tags) if rule.tags else True


class CacheActor:
    """The cache actor's body: a ``DiskLRU`` plus the ``cache:`` rules of the YAML.

    Create it as an actor through ``Cache`` (or ``start_cache`` for the named,
    head-pinned singleton), not directly.

    Args:
        cache_dir_path: Directory for the pickle files (on the node the actor runs on).
        budget_bytes: LRU byte budget.
        rules: Per-function ``cache:`` rules, either ``Rule`` values or the parsed
            ``{fn: True | [tag patterns]}`` form that ``load_cache_config`` returns.
    """

    def __init__(self, cache_dir_path: str, budget_bytes: int, rules: Any = None) -> None:
        self._store = DiskLRU(cache_dir_path, budget_bytes)
        self._rules = rules_from_config(rules, "cache config", "cache")

    def write(self, tag: str, value: Any) -> bool:
        """Store ``value`` under ``tag``; False when it alone exceeds the budget."""
        return self._store.write(tag, value)

    def read(self, tag: str) -> tuple[bool, Any]:
        """Return ``(True, value)`` on a hit (now most recently used), else ``(False, None)``."""
        return self._store.read(tag)

    def has(self, tag: str) -> bool:
        """True when ``tag`` is cached (does not change recency)."""
        return self._store.has(tag)

    def evict(self, tag: str) -> bool:
        """Delete ``tag``'s entry; False when it was not cached."""
        return self._store.evict(tag)

    def flush(self) -> None:
        """Delete every entry (the directory itself is kept)."""
        self._store.flush()

    def size_bytes(self) -> int:
        """Bytes of pickles currently kept."""
        return self._store.size_bytes()

    def keys(self) -> list[str]:
        """Cached tags, least recently used first."""
        return self._store.keys()

    def is_cached(self, func_name: str, tag: str | None) -> bool:
        """True when the rules say this call's output should be cached.

        ``func_name`` may be qualified (``Tool.run``): its rule is looked up first, then
        the bare name's (``run``). Without a tag, True only for a rule with no ``tags:``.
        """
        rule = self._rules.get(func_name) or self._rules.get(func_name.rsplit(".", 1)[-1])
        if rule is None or not rule.enabled:
            return False
        return not rule.tags if tag is None else rule.matches(tag)

    def get_config(self) -> dict[str, bool | list[str]]:
        """The enabled rules in the parsed form: ``{fn: True | [tag patterns]}``."""
        return {name: _config_form(r) for name, r in self._rules.items() if r.enabled}

    def config(self) -> dict[str, Any]:
        """The cache's directory, budget and rules."""
        return {
            "cache_dir_path": str(self._store.directory),
            "budget_bytes": self._store.budget_bytes,
            "rules": dict(self._rules),
        }


class _CacheClass:
    """``Cache``: creates cache actors, checking their arguments on the caller's side."""

    def __init__(self, options: dict[str, Any]) -> None:
        self._options = options

    def options(self, **options: Any) -> _CacheClass:
        """Return a creator with these Ray actor options (``scheduling_strategy``, ...)."""
        return _CacheClass({**self._options, **options})

    def remote(
        self, cache_dir_path: str | os.PathLike[str], budget_bytes: int, config: Any = None
    ) -> Any:
        """Create an anonymous (unless ``name`` was given) cache actor.

        Args:
            cache_dir_path: Directory for the pickle files on the actor's node.
            budget_bytes: LRU byte budget (a non-negative integer).
            config: ``{fn: True | [tag patterns]}`` as ``load_cache_config`` returns,
                entries like the YAML's, or None.

        Returns:
            The Ray actor handle.

        Raises:
            ChiaUsageError: For a bad directory, budget or config (unknown keys named).
        """
        if not isinstance(cache_dir_path, (str, os.PathLike)):
            raise ChiaUsageError(f"Cache: cache_dir_path must be a path, got {cache_dir_path!r}")
        if isinstance(budget_bytes, bool) or not isinstance(budget_bytes, int) or budget_bytes < 0:
            raise ChiaUsageError(
                f"Cache: budget_bytes must be a non-negative integer, got {budget_bytes!r}"
            )
        rules = rules_from_config(config, "Cache config", "cache")
        actor_cls: Any = ray.remote(CacheActor)
        return actor_cls.options(**self._options).remote(
            os.fspath(cache_dir_path), budget_bytes, rules
        )


Cache = _CacheClass({"num_cpus": 0})
"""The cache actor class, as ``Cache.options(scheduling_strategy=...).remote(dir, budget, config)``.

Such an actor is anonymous: ``start_cache`` makes the named, head-pinned one that
``get_active_cache`` and tagged ``ChiaFunction`` calls use.
"""


def load_cache_config(yaml_path: str) -> dict[str, bool | list[str]]:
    """Parse the ``cache:`` section of a YAML into ``{fn: True | [tag patterns]}``.

    Functions with ``cache: false`` are left out.

    Raises:
        ChiaUsageError: For a missing file or a malformed entry (an unknown key is named).
    """
    rules = load_rules(yaml_path, "cache", False)
    return {name: _config_form(r) for name, r in rules.items() if r.enabled}


_load_cache_config = load_cache_config


def start_cache(
    size: float,
    cache_dir_path: str,
    units: str = "B",
    yaml_path: str | None = None,
    namespace: str | None = None,
) -> ChiaActorHandle:
    """Create (or find) the head-pinned cache actor. Idempotent.

    Call from the driver after ``ray.init()``. The actor is detached, so it is reachable
    from workers in other Ray jobs, and named in an explicit namespace.

    Args:
        size: Numeric budget; multiplied by ``UNITS[units]`` to get bytes.
        cache_dir_path: Directory for the pickle files (on the head node).
        units: One of ``UNITS``, in any case (default ``"B"``).
        yaml_path: Optional bypass/cache YAML; its ``cache:`` section opts functions into
            automatic caching.
        namespace: Optional Ray namespace for the named actor (default ``"chia"``).

    Returns:
        The cache actor as a ``chia_actor`` handle, as CHIA returns it: its methods take
        ``.remote(...)`` and ``.chia_remote(...)`` (``get(c.has.chia_remote(tag))``);
        ``.actor`` is the raw Ray handle (for ``ray.kill``).

    Raises:
        ChiaUsageError: For an unknown unit or a non-positive size.
    """
    global _namespace
    unit = units.upper() if isinstance(units, str) else units
    if unit not in UNITS:
        raise ChiaUsageError(f"unknown cache size unit {units!r}; use one of {sorted(UNITS)}")
    if size <= 0:
        raise ChiaUsageError(f"cache size must be positive, got {size}")
    rules = load_rules(yaml_path, "cache", False) if yaml_path else {}
    ns = namespace or CHIA_NAMESPACE
    _namespace = ns
    return chia_actor(
        pinned_singleton(
            CacheActor,
            CACHE_NAME,
            ns,
            head_node_id(),
            cache_dir_path,
            int(size * UNITS[unit]),
            rules,
        )
    )


def stop_cache(namespace: str | None = None) -> None:
    """Kill the cache actor. Idempotent; the pickles on disk are kept for a warm start."""
    kill_named_actor(CACHE_NAME, namespace or _namespace)


def get_active_cache(namespace: str | None = None) -> ChiaActorHandle | None:
    """Return the cache actor (a ``chia_actor`` handle), or None if no cache was started.

    Always resolves the current named actor (no process-local handle is kept), so a
    worker reaches the cache with no state threading and a restarted cache is found.
    """
    handle = get_named_actor(CACHE_NAME, namespace or _namespace)
    return None if handle is None else chia_actor(handle)


def is_cached(func_name: str, tag: str | None = None) -> bool:
    """Should ``func_name``'s output be cached on this call?

    True only when the function is configured ``cache: true`` and, if ``tags:`` patterns
    are present, ``tag`` fullmatches one (without a tag: only when there are no
    patterns, as in CHIA; a dispatch caches tagged calls only). ``func_name`` may be the
    qualified name CHIA passes (``Tool.run``): a rule for it is used first, then one for
    the bare name (``run``). The config is read from the actor (the source of truth), so
    it never goes stale across a cache restart.
    """
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
