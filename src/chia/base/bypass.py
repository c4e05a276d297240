"""General-purpose bypass for ChiaFunction tasks.

When bypass is active, a function is still dispatched through Ray (testing cluster
scheduling, placement groups, resource allocation) but the real computation is replaced
with pre-recorded data. The check happens on the caller side (in ``chia_remote()``); a
bypassed call dispatches a trivial task with the same scheduling options that runs the
registered provider on the worker.

YAML format::

    bypass:
      func_name:
        bypass: true
        data: /path/to/file.json   # optional
        tags: ["iter0_.*"]         # optional; a call's tag must fullmatch one
      simple_function: true        # shorthand (bypass, no data)
      BuilderA.build: true         # a method, by qualified name
      # not listed = not bypassed (default, no error)

A function is looked up by its qualified name (``BuilderA.build``) first, then by its
bare name (``build``), both in the YAML and in ``set_provider``/``set_cond``: the bare
name matches that method in every class, the qualified one only in its class.

Provider signature (runs on the worker)::

    def my_provider(tag, data_path, *args, **kwargs) -> ReturnType

Resolution when a function is bypassed: a registered provider is called; otherwise a
``data:`` path is read by the default file provider (JSON files are parsed, other files
are returned as text); with neither, ``get_provider_info`` raises ``KeyError``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import ray

from chia.base import _context
from chia.base._file_server import start_file_server
from chia.base._ray_util import cloudpickle_dumps, cloudpickle_loads
from chia.base._rules import Rule, load_rules

__all__ = ["Bypass", "driver_bypass", "get_active_bypass"]

_active: Bypass | None = None
_decoded: dict[str, Bypass] = {}
_decoded_lock = threading.Lock()
_MAX_DECODED = 32


def get_active_bypass() -> Bypass | None:
    """Return the active Bypass instance, or None if bypass is not in use.

    Inside a remote task this is the bypass state that travelled with the dispatch, so
    nested dispatches obey the same configuration as their caller.
    """
    ctx = _context.current()
    if ctx is not None and ctx.bypass_state is not None:
        return _decode(ctx.bypass_key, ctx.bypass_state)
    return _active


def driver_bypass() -> Bypass | None:
    """Return the bypass this process activated itself (what a driver's dispatch obeys)."""
    return _active


def _decode(key: str, blob: bytes) -> Bypass:
    with _decoded_lock:
        found = _decoded.get(key)
        if found is None:
            if len(_decoded) >= _MAX_DECODED:
                _decoded.clear()
            found = Bypass._from_state(cloudpickle_loads(blob))
            _decoded[key] = found
        return found


def _lookup(mapping: dict[str, Any], func_name: str) -> Any:
    """``mapping[func_name]``, else the entry of its bare name (after the last dot)."""
    found = mapping.get(func_name)
    if found is None and "." in func_name:
        found = mapping.get(func_name.rsplit(".", 1)[1])
    return found


def _default_file_provider(
    tag: str | None, data_path: str | None, *args: Any, **kwargs: Any
) -> Any:
    """Return the ``data:`` file's contents (parsed when it is JSON), read via the server."""
    if data_path is None:
        raise KeyError(f"no data path for bypassed call tagged {tag!r}")
    bypass = get_active_bypass()
    server = bypass.file_server() if bypass is not None else None
    text = (
        ray.get(server.get_text.remote(data_path))
        if server is not None
        else Path(data_path).read_text(encoding="utf-8")
    )
    return json.loads(text) if data_path.endswith(".json") else text


def _pickled(kind: str, name: str, fn: Callable[..., Any]) -> bytes:
    try:
        return cloudpickle_dumps(fn)
    except Exception as exc:
        raise TypeError(
            f"bypass {kind} for {name!r} cannot be pickled ({type(exc).__name__}: {exc}); "
            "register a module-level function, or a closure over picklable values only"
        ) from exc


class Bypass:
    """Controls which ChiaFunction tasks return pre-recorded data.

    Create one instance per loop run, always, as part of setup. If ``yaml_path`` is None,
    bypass does nothing: ``is_bypassed()`` returns False for all functions. The
    constructor registers itself as the active bypass instance; the ChiaFunction
    trampoline checks it automatically.

    Args:
        yaml_path: The bypass YAML (its ``bypass:`` section), or None.
    """

    def __init__(self, yaml_path: str | None = None) -> None:
        global _active
        self.yaml_path = yaml_path
        self._rules: dict[str, Rule] = load_rules(yaml_path, "bypass", True) if yaml_path else {}
        self._providers: dict[str, Callable[..., Any]] = {}
        self._conds: dict[str, Callable[..., Any]] = {}
        self._file_server: Any = None
        self._uid = uuid.uuid4().hex
        self._version = 0
        self._encoded: bytes | None = None
        _active = self

    @classmethod
    def _from_state(cls, state: dict[str, Any]) -> Bypass:
        """Build an instance from ``get_state()`` without making it the active one."""
        self = cls.__new__(cls)
        self.yaml_path = None
        self._rules, self._providers, self._conds = {}, {}, {}
        self._file_server, self._uid, self._version, self._encoded = None, uuid.uuid4().hex, 0, None
        self.load_state(state)
        return self

    def _changed(self) -> None:
        self._version += 1
        self._encoded = None

    def set_provider(self, func_name: str, provider: Callable[..., Any]) -> None:
        """Register a provider for ``func_name``.

        The provider runs on the worker (not the caller) and replaces the real function
        when it is bypassed: ``provider(tag, data_path, *args, **kwargs) -> value``.
        """
        self._providers[func_name] = provider
        self._changed()

    def set_cond(self, func_name: str, cond: Callable[..., Any]) -> None:
        """Register a bypass condition for ``func_name``.

        Evaluated on the caller as the last gate of ``is_bypassed()``, as
        ``cond(tag, data_path, *args, **kwargs) -> bool``; a falsy return means the call
        runs for real.
        """
        self._conds[func_name] = cond
        self._changed()

    @property
    def _bypass(self) -> dict[str, bool]:
        """CHIA's table of YAML flags (function -> bypass flag); assignable as in CHIA."""
        return {name: rule.enabled for name, rule in self._rules.items()}

    @_bypass.setter
    def _bypass(self, flags: Mapping[str, bool]) -> None:
        self._rules = {
            n: replace(self._rules.get(n, Rule(enabled=False)), enabled=bool(f))
            for n, f in flags.items()
        }
        self._changed()

    @property
    def _tag_patterns(self) -> dict[str, list[str]]:
        """CHIA's table of tag patterns (function -> patterns); assignable as in CHIA."""
        return {name: list(rule.tags) for name, rule in self._rules.items() if rule.tags}

    @_tag_patterns.setter
    def _tag_patterns(self, patterns: Mapping[str, list[str]]) -> None:
        rules = {name: replace(rule, tags=()) for name, rule in self._rules.items()}
        for name, pats in patterns.items():
            rules[name] = replace(rules.get(name, Rule(enabled=False)), tags=tuple(pats))
        self._rules = rules
        self._changed()

    @property
    def active(self) -> bool:
        """True if any functions are configured for bypass."""
        return any(rule.enabled for rule in self._rules.values())

    def is_bypassed(
        self, func_name: str, tag: str | None = None, *args: Any, **kwargs: Any
    ) -> bool:
        """Should ``func_name`` be bypassed on this call?

        True only when the YAML flag is set, a provider or data path exists, the tag
        passes the ``tags`` patterns (if any), and the registered condition (if any)
        returns truthy. The condition gets the original call arguments and may do remote
        work (e.g. a cache lookup).
        """
        rule: Rule | None = _lookup(self._rules, func_name)
        if rule is None or not rule.enabled:
            return False
        if _lookup(self._providers, func_name) is None and rule.data is None:
            return False
        if not rule.matches(tag):
            return False
        cond = _lookup(self._conds, func_name)
        return True if cond is None else bool(cond(tag, rule.data, *args, **kwargs))

    def get_provider_info(self, func_name: str) -> tuple[Callable[..., Any], str | None]:
        """Return ``(provider, data_path)`` for dispatching on the worker.

        Raises:
            KeyError: If the function has neither a provider nor a ``data:`` path.
        """
        rule: Rule | None = _lookup(self._rules, func_name)
        data_path = rule.data if rule is not None else None
        provider = _lookup(self._providers, func_name)
        if provider is not None:
            return provider, data_path
        if data_path is not None:
            return _default_file_provider, data_path
        raise KeyError(f"bypass for {func_name!r} has neither a provider nor a data path")

    def file_server(self) -> Any:
        """Return the bypass file server actor handle, creating it if needed.

        The server runs on the node that created it (the owner of this Bypass), so
        providers on any worker can read files from there.
        """
        if self._file_server is None:
            self._file_server = start_file_server()
            self._changed()
        return self._file_server

    def get_state(self) -> dict[str, Any]:
        """Return a serializable dict of the bypass state, including providers.

        Providers and conditions are serialized with cloudpickle.

        Raises:
            TypeError: If a provider or condition cannot be pickled (e.g. a closure over
                a lock or an open socket).
        """
        if self._file_server is None and any(r.data for r in self._rules.values()):
            self.file_server()
        return {
            "yaml_path": self.yaml_path,
            "rules": dict(self._rules),
            "providers": {n: _pickled("provider", n, f) for n, f in self._providers.items()},
            "conds": {n: _pickled("condition", n, f) for n, f in self._conds.items()},
            "file_server": self._file_server,
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore bypass state from a dict (from ``get_state()``)."""
        self.yaml_path = state.get("yaml_path")
        self._rules = dict(state.get("rules", {}))
        self._providers = {n: cloudpickle_loads(b) for n, b in state.get("providers", {}).items()}
        self._conds = {n: cloudpickle_loads(b) for n, b in state.get("conds", {}).items()}
        self._file_server = state.get("file_server")
        self._changed()

    def encoded(self) -> tuple[str, bytes]:
        """Return ``(key, blob)``: the pickled state that travels with each dispatch."""
        if self._encoded is None:
            self._encoded = cloudpickle_dumps(self.get_state())
        return f"{self._uid}:{self._version}", self._encoded
