"""The object ``@ChiaFunction`` returns, and the dispatch pipeline behind ``chia_remote``.

A dispatch takes the fast path (straight to ``ray.remote``) unless something is active:
a bypass configuration, a profile collector, a tagged call with a cache, or a worker that
must relay through the head. Otherwise it builds a ``DispatchContext`` that travels with
the call, so nested dispatches behave like their caller.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, ParamSpec, TypeVar

import ray

from chia.base import _context, cache, dispatch_proxy, pid_registry
from chia.base._context import CTX_KWARG, DispatchContext
from chia.base._hooks import (
    HOOKS_KWARG,
    Hooks,
    call_hooks,
    merge_hooks,
    pop_hooks,
    run_with_hooks,
)
from chia.base._refs import ObjectRefCallback, get
from chia.base._runner import bypass_task, make_runner
from chia.base.bypass import driver_bypass, get_active_bypass
from chia.base.profiling_hook import CollectorRef, active_collector, driver_collector

__all__ = ["DISPLAY_KWARG", "TAG_KWARG", "BoundChiaFunction", "ChiaWrappedFunction"]

P = ParamSpec("P")
R = TypeVar("R")
log = logging.getLogger(__name__)

TAG_KWARG = "_chia_tag"
DISPLAY_KWARG = "_chia_display_name"
_bypass_remote: Any = None
_driver_checked = False
_driver_lock = threading.Lock()


def _on_first_driver_dispatch() -> None:
    """On a driver's first dispatch, arrange for SIGTERM to kill tracked subprocesses."""
    global _driver_checked
    with _driver_lock:
        if _driver_checked:
            return
        _driver_checked = True
        if ray.get_runtime_context().worker.mode == ray.SCRIPT_MODE:
            pid_registry.install_sigterm_handler()


class ChiaWrappedFunction(Generic[P, R]):
    """A function with a local call and a Ray dispatch (see ``ChiaFunction``).

    Args:
        fn: The wrapped function.
        options: Ray options for ``.options()`` of the remote function; ``_chia_tag`` is
            taken out as the default tag of every call, the hook options
            (``_chia_setup``...) as the default hooks. Options set to None are dropped
            (as CHIA does), so ``.options(num_cpus=None)`` keeps the decorator's value.

    Raises:
        TypeError: If a hook option is not callable or its arguments are not a tuple.
    """

    def __init__(self, fn: Callable[P, R], options: dict[str, Any]) -> None:
        opts = {k: v for k, v in options.items() if v is not None}
        self._given = dict(opts)
        self._fn = fn
        self._tag: str | None = opts.pop(TAG_KWARG, None)
        self._hooks: Hooks | None = pop_hooks(opts)
        self._ray_opts = opts
        self._name: str = getattr(fn, "__name__", "chia_function")
        self._qualname: str = getattr(fn, "__qualname__", self._name)
        self._remote: Any = None
        self._profiled: dict[CollectorRef, Any] = {}
        functools.update_wrapper(self, fn)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_remote"] = None
        state["_profiled"] = {}
        return state

    def __repr__(self) -> str:
        return f"<ChiaFunction {self._name} {self._ray_opts}>"

    @property
    def ray_options(self) -> dict[str, Any]:
        """The Ray options every dispatch uses."""
        return dict(self._ray_opts)

    @property
    def _chia_original(self) -> Callable[P, R]:
        """The undecorated function (CHIA's attribute of the same name)."""
        return self._fn

    @property
    def _chia_options(self) -> dict[str, Any]:
        """The options as given (Ray options, ``_chia_tag``, hooks), None values dropped."""
        return dict(self._given)

    def _remote_fn(self) -> Any:
        if self._remote is None:
            remote = ray.remote(make_runner(self._fn, self._name, self._hooks))
            self._remote = remote.options(**self._ray_opts) if self._ray_opts else remote
        return self._remote

    def _profiled_fn(self, collector: CollectorRef) -> Any:
        """The remote function for a driver's untagged calls while ``collector`` records.

        Every such call has the same context, so it travels with the function (exported
        once per collector) instead of as an argument of each call.
        """
        remote = self._profiled.get(collector)
        if remote is None:
            ctx = DispatchContext(collector=collector)
            remote = ray.remote(make_runner(self._fn, self._name, self._hooks, ctx))
            if self._ray_opts:
                remote = remote.options(**self._ray_opts)
            if len(self._profiled) >= 4:
                self._profiled.clear()
            self._profiled[collector] = remote
        return remote

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run the function in this process (not a node: no Ray, no bypass).

        The reserved options are taken out of ``kwargs``; setup/cleanup hooks run here,
        around the call, with the same semantics as on a worker.
        """
        hooks = self._hooks
        if kwargs:
            kwargs.pop(TAG_KWARG, None)
            kwargs.pop(DISPLAY_KWARG, None)
            hooks = merge_hooks(kwargs, hooks)
        if hooks is None:
            return self._fn(*args, **kwargs)
        return run_with_hooks(hooks, lambda: self._fn(*args, **kwargs))  # type: ignore[no-any-return]

    def chia_remote(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Dispatch through Ray; return an ObjectRef (or an ``ObjectRefCallback``)."""
        return _dispatch(self, args, kwargs)

    def remote(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        """Alias of ``chia_remote`` (CHIA's ``.options(...)`` handles have it)."""
        return _dispatch(self, args, kwargs)

    @property
    def chia_remote_blocking(self) -> Callable[P, R]:
        """Dispatch through Ray and wait for the value (``get(chia_remote(...))``).

        The returned callable carries the wrapped function's name, docstring and
        signature, so it can be registered as an MCP tool
        (``mcp.add_tool(fn.chia_remote_blocking)``) that runs with the function's own
        resources.
        """

        @functools.wraps(self._fn)
        def blocking(*args: P.args, **kwargs: P.kwargs) -> R:
            return get(_dispatch(self, args, kwargs))  # type: ignore[no-any-return]

        return blocking

    def options(self, **override: Any) -> ChiaWrappedFunction[P, R]:
        """Return a copy with ``override`` merged into the options (Ray, tag, hooks).

        An override set to None keeps the current value.

        Raises:
            TypeError: If a hook option is not callable or its arguments are not a tuple.
        """
        kept = {k: v for k, v in override.items() if v is not None}
        return ChiaWrappedFunction(self._fn, {**self._given, **kept})

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return BoundChiaFunction(self, obj)


class BoundChiaFunction:
    """A ``@ChiaFunction`` method looked up on an instance.

    Calling it runs the method locally with ``self`` bound. ``chia_remote`` takes
    ``self`` explicitly (``tool.do_work.chia_remote(tool, x=5)``): the instance is
    serialized with the arguments and the method runs on the worker.
    """

    def __init__(self, wrapped: ChiaWrappedFunction[..., Any], obj: Any) -> None:
        self._wrapped = wrapped
        self._obj = obj
        self.__name__ = wrapped._name
        self.__doc__ = wrapped.__doc__
        self._chia_original = wrapped._fn
        self._chia_options = wrapped._chia_options

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the method locally on the bound instance."""
        return self._wrapped(self._obj, *args, **kwargs)

    def chia_remote(self, *args: Any, **kwargs: Any) -> Any:
        """Dispatch the method through Ray; pass the instance as the first argument."""
        return self._wrapped.chia_remote(*args, **kwargs)

    remote = chia_remote

    def chia_remote_blocking(self, *args: Any, **kwargs: Any) -> Any:
        """Dispatch the method and wait for its value (instance passed explicitly)."""
        return self._wrapped.chia_remote_blocking(*args, **kwargs)

    def options(self, **override: Any) -> BoundChiaFunction:
        """Return a bound copy with ``override`` merged into the Ray options."""
        return BoundChiaFunction(self._wrapped.options(**override), self._obj)


def _submit_direct(
    wrapped: ChiaWrappedFunction[..., Any],
    bypass_info: tuple[Callable[..., Any], str | None] | None,
    ctx: DispatchContext | None,
    hooks: Hooks | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    """Submit the real task (or its bypass stand-in, which runs no hooks) from here."""
    call_kwargs = {**kwargs, CTX_KWARG: _context.encode(ctx)} if ctx is not None else kwargs
    if bypass_info is None:
        if hooks is not None:
            call_kwargs = {**call_kwargs, HOOKS_KWARG: hooks}
        return wrapped._remote_fn().remote(*args, **call_kwargs)
    global _bypass_remote
    if _bypass_remote is None:
        _bypass_remote = ray.remote(bypass_task)
    provider, data_path = bypass_info
    opts = {"name": f"{wrapped._name}[bypass]", **wrapped._ray_opts}
    return _bypass_remote.options(**opts).remote(
        wrapped._name, provider, ctx.tag if ctx else None, data_path, *args, **call_kwargs
    )


def _dispatch(
    wrapped: ChiaWrappedFunction[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if not _driver_checked:
        _on_first_driver_dispatch()
    if kwargs:
        tag = kwargs.pop(TAG_KWARG, wrapped._tag)
        kwargs.pop(DISPLAY_KWARG, None)
        hooks = call_hooks(kwargs, wrapped._hooks)
    else:
        tag, hooks = wrapped._tag, None
    if args and any(isinstance(a, ObjectRefCallback) for a in args):
        args = tuple(a.ref if isinstance(a, ObjectRefCallback) else a for a in args)
    parent = _context.current()
    bypass = get_active_bypass() if parent is not None else driver_bypass()
    collector = active_collector() if parent is not None else driver_collector()
    proxy = dispatch_proxy.should_proxy(wrapped._ray_opts)
    quiet = tag is None and parent is None and collector is None and not proxy
    inactive = bypass is None or not bypass.active
    if quiet and inactive:
        if hooks is not None:
            kwargs[HOOKS_KWARG] = hooks
        return wrapped._remote_fn().remote(*args, **kwargs)
    plain = inactive and tag is None and parent is None and not proxy
    if plain and collector is not None and _context.current_frame() is None:
        # A driver's plain call while profiling: its context travels with the function.
        if hooks is not None:
            kwargs[HOOKS_KWARG] = hooks
        return wrapped._profiled_fn(collector).remote(*args, **kwargs)
    return _dispatch_full(wrapped, args, kwargs, hooks, tag, parent, bypass, collector, proxy)


def _dispatch_full(
    wrapped: ChiaWrappedFunction[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    hooks: Hooks | None,
    tag: str | None,
    parent: DispatchContext | None,
    bypass: Any,
    collector: CollectorRef | None,
    proxy: bool,
) -> Any:
    name = wrapped._name
    active = bypass is not None and bypass.active
    bypassed = active and bypass.is_bypassed(wrapped._qualname, tag, *args, **kwargs)
    single = wrapped._ray_opts.get("num_returns", 1) == 1
    # Only tagged calls are cached (a bypassed value too); the rule may name Tool.run.
    cached = single and tag is not None and cache.is_cached(wrapped._qualname, tag)
    ctx: DispatchContext | None = None
    if active or collector is not None or cached or parent:
        if parent is not None and parent.bypass_state is not None:
            key, blob = parent.bypass_key, parent.bypass_state
        elif active:
            key, blob = bypass.encoded()
        else:
            key, blob = "", None
        frame = _context.in_task()
        ctx = DispatchContext(
            bypass_key=key,
            bypass_state=blob,
            collector=collector,
            caller=frame[0] if frame else "driver",
            caller_task=frame[1] if frame else "",
            tag=tag,
            cached=cached,
        )
    info = bypass.get_provider_info(wrapped._qualname) if bypassed else None
    if proxy and not single:
        log.warning("%s: num_returns > 1 cannot be relayed; dispatching directly", name)
        proxy = False
    if proxy:
        submit = functools.partial(_submit_direct, wrapped, info, ctx, hooks, args, kwargs)
        ref = dispatch_proxy.get_dispatch_proxy().relay.remote(submit)
    else:
        ref = _submit_direct(wrapped, info, ctx, hooks, args, kwargs)
    if cached and tag is not None:
        return ObjectRefCallback(ref, cache.CacheWrite(tag))
    return ref
