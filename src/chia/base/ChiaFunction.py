"""``@ChiaFunction``: one decorator, a local call and a Ray dispatch.

Usage::

    @ChiaFunction(resources={"db1": 1.0})
    def my_function(x, y):
        return x + y

    my_function(1, 2)                      # local call, in this process
    ref = my_function.chia_remote(1, 2)    # Ray dispatch, returns an ObjectRef
    result = get(ref)                      # 3
    ref = ChiaCallRemote(my_function, 1, 2)

A reserved ``_chia_tag="..."`` keyword (or ``.options(_chia_tag=...)``) names a call for
the cache and for bypass. For bound methods the instance travels with the call::

    class MyTool:
        @ChiaFunction()
        def do_work(self, x):
            return x * 2

    tool = MyTool()
    ref = tool.do_work.chia_remote(tool, x=5)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, Protocol, TypeVar, cast, overload

import ray

from chia.base._hooks import HOOK_KEYS, hooks_as_options, pop_hooks, run_actor_method
from chia.base._refs import ObjectRefCallback, get
from chia.base._wrapped import ChiaWrappedFunction
from chia.base.pid_registry import chia_cancel

__all__ = [
    "ChiaActorHandle",
    "ChiaCallRemote",
    "ChiaFunction",
    "ChiaWrapped",
    "ObjectRefCallback",
    "chia_actor",
    "chia_cancel",
    "get",
]

P = ParamSpec("P")
R = TypeVar("R")


class ChiaWrapped(Protocol[P, R]):
    """Protocol describing the object returned by ``@ChiaFunction()``.

    Includes ``__get__`` overloads so that mypy treats instances as descriptors: on a
    class the full ParamSpec is kept; on an instance (bound-method position) the type
    falls back to ``ChiaWrapped[..., R]``, because "P minus the first argument" cannot be
    expressed.
    """

    __name__: str
    _chia_original: Callable[P, R]
    _chia_options: dict[str, Any]

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the function locally."""
        ...

    def chia_remote(self, *args: P.args, **kwargs: P.kwargs) -> ray.ObjectRef[R]:
        """Dispatch through Ray."""
        ...

    def chia_remote_blocking(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Dispatch through Ray and wait for the value."""
        ...

    def remote(self, *args: P.args, **kwargs: P.kwargs) -> ray.ObjectRef[R]:
        """Alias of ``chia_remote``."""
        ...

    def options(self, **options: Any) -> ChiaWrapped[P, R]:
        """Return a copy with overridden Ray options."""
        ...

    @overload
    def __get__(self, obj: None, objtype: type[Any] | None = None) -> ChiaWrapped[P, R]: ...

    @overload
    def __get__(self, obj: object, objtype: type[Any] | None = None) -> ChiaWrapped[..., R]: ...


class ChiaFunction:
    """Decorator that creates both a local and a ``ray.remote`` version of a function.

    Accepts any keyword arguments supported by ``ray.remote().options()``: ``resources``,
    ``num_cpus``, ``num_gpus``, ``num_returns``, ``max_retries``, ``retry_exceptions``,
    ``memory``, ``scheduling_strategy``, ``max_calls``, ``runtime_env``, ``name``,
    ``label_selector``..., plus ``_chia_tag`` (a default tag for every call) and the
    setup/cleanup hooks ``_chia_setup``, ``_chia_setup_args``, ``_chia_cleanup``,
    ``_chia_cleanup_args`` (defaults for every call). Options set to None are dropped.
    Unset options keep Ray's defaults (e.g. ``max_retries=3``, ``num_cpus=1``).

    Raises:
        TypeError: If a hook option is not callable or its arguments are not a tuple.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._options = kwargs

    def __call__(self, fn: Callable[P, R]) -> ChiaWrapped[P, R]:
        """Wrap ``fn``."""
        return cast("ChiaWrapped[P, R]", ChiaWrappedFunction(fn, self._options))


def ChiaCallRemote(func: ChiaWrapped[P, R], *args: P.args, **kwargs: P.kwargs) -> ray.ObjectRef[R]:
    """Call the ``ray.remote`` version of a ``@ChiaFunction``-decorated function.

    Returns a ``ray.ObjectRef[R]`` where ``R`` is the wrapped function's return type, so
    ``get(...)`` can infer the final value type.

    Raises:
        TypeError: If ``func`` is not decorated with ``@ChiaFunction``.
    """
    if not callable(getattr(func, "chia_remote", None)):
        name = getattr(func, "__name__", repr(func))
        raise TypeError(f"{name} is not decorated with @ChiaFunction")
    return func.chia_remote(*args, **kwargs)


class _ChiaActorMethod:
    """One actor method with ``remote`` and its alias ``chia_remote``.

    Both accept the setup/cleanup hook options (in the call or in ``.options``); a call
    with hooks goes through the actor's ``__ray_call__`` so the hooks run in the actor,
    around the method.
    """

    __slots__ = ("_actor", "_hooks", "_method", "_name", "_opts")

    def __init__(self, actor: Any, name: str, opts: dict[str, Any] | None = None) -> None:
        self._actor = actor
        self._name = name
        opts = dict(opts or {})
        self._hooks = pop_hooks(opts)
        self._opts = opts
        method = getattr(actor, name)
        self._method = method.options(**opts) if opts else method

    def remote(self, *args: Any, **kwargs: Any) -> Any:
        """Call the actor method (as Ray's ``remote``).

        Raises:
            TypeError: If a hook option is not callable or its arguments are not a tuple.
        """
        hooks = self._hooks
        if kwargs and not HOOK_KEYS.isdisjoint(kwargs):
            hooks = pop_hooks(kwargs, hooks)
        if hooks is None:
            return self._method.remote(*args, **kwargs)
        call = self._actor.__ray_call__
        if self._opts:
            call = call.options(**self._opts)
        return call.remote(run_actor_method, self._name, hooks, *args, **kwargs)

    chia_remote = remote

    def options(self, **opts: Any) -> _ChiaActorMethod:
        """Return the method with Ray call options (and hook options) applied."""
        merged = {**self._opts, **opts}
        if self._hooks is not None:
            merged = {**hooks_as_options(self._hooks), **merged}
        return _ChiaActorMethod(self._actor, self._name, merged)


class ChiaActorHandle:
    """Thin proxy over a Ray actor handle that adds ``chia_remote`` to each method.

    ``chia_remote`` here is a plain alias for Ray's ``remote``: no profiling, bypass or
    cache wrapping. ``remote`` still works; ``.actor`` is the raw Ray handle.

    Args:
        actor: The Ray actor handle.
    """

    def __init__(self, actor: Any) -> None:
        self._actor = actor

    @property
    def actor(self) -> Any:
        """The underlying raw Ray actor handle."""
        return self._actor

    def __getattr__(self, name: str) -> _ChiaActorMethod:
        if name.startswith("__"):
            raise AttributeError(name)
        return _ChiaActorMethod(self._actor, name)

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        return (ChiaActorHandle, (self._actor,))


def chia_actor(handle: Any) -> ChiaActorHandle:
    """Wrap a Ray actor handle so its methods accept ``chia_remote``. Idempotent.

    Example::

        store = chia_actor(some_actor)
        n = get(store.size_bytes.chia_remote())
    """
    if isinstance(handle, ChiaActorHandle):
        return handle
    return ChiaActorHandle(handle)
