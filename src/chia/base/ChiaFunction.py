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

from chia.base._actor import ChiaActorHandle, chia_actor
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
