"""``chia_actor``: a Ray actor handle whose methods also answer ``chia_remote``."""

from __future__ import annotations

from typing import Any

from chia.base._hooks import HOOK_KEYS, hooks_as_options, pop_hooks, run_actor_method

__all__ = ["ChiaActorHandle", "chia_actor"]


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
