"""Per-call setup/cleanup hooks: the reserved ``_chia_setup``/``_chia_cleanup`` options.

A call (or ``.options(...)``) may name a setup callable that runs on the worker before
the function and a cleanup callable that runs after it::

    ref = fn.chia_remote(
        x,
        _chia_setup=mount,
        _chia_setup_args=(path,),
        _chia_cleanup=unmount,
        _chia_cleanup_args=(path,),
    )

Semantics: setup raising propagates and skips the function and the cleanup; cleanup runs
after the function even when it raised; a cleanup exception is logged and swallowed, so
it never masks the function's value or exception; cleanup's return value is ignored.

The options are checked where the call is made (the driver), so a hook that is not
callable, or hook arguments that are not a tuple, fail there with a ``TypeError`` naming
the option, never as a traceback from a worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = [
    "HOOKS_KWARG",
    "HOOK_KEYS",
    "Hooks",
    "call_hooks",
    "hooks_as_options",
    "merge_hooks",
    "pop_hooks",
    "run_actor_method",
    "run_with_hooks",
]

log = logging.getLogger(__name__)

HOOKS_KWARG = "_chia_hooks_"
"""Keyword under which a dispatch passes its hooks to the remote runner."""

SETUP, SETUP_ARGS = "_chia_setup", "_chia_setup_args"
CLEANUP, CLEANUP_ARGS = "_chia_cleanup", "_chia_cleanup_args"
HOOK_KEYS = frozenset((SETUP, SETUP_ARGS, CLEANUP, CLEANUP_ARGS))


class Hooks(NamedTuple):
    """The hooks of one call (a field is None / empty when that hook is not set)."""

    setup: Callable[..., Any] | None = None
    setup_args: tuple[Any, ...] = ()
    cleanup: Callable[..., Any] | None = None
    cleanup_args: tuple[Any, ...] = ()


def _check_fn(name: str, value: Any) -> Callable[..., Any] | None:
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable (or None), got {type(value).__name__}: {value!r}")
    return value  # type: ignore[no-any-return]


def _check_args(name: str, value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if not isinstance(value, tuple):
        raise TypeError(
            f"{name} must be a tuple of positional arguments, got {type(value).__name__}: "
            f"{value!r} (write ({value!r},) for a single argument)"
        )
    return value


def pop_hooks(kwargs: dict[str, Any], base: Hooks | None = None) -> Hooks | None:
    """Remove the hook options from ``kwargs``; return them over ``base`` (checked).

    Returns None when neither ``kwargs`` nor ``base`` sets a hook. A hook set to None
    means "no hook" (its arguments are then ignored, as CHIA does).

    Raises:
        TypeError: If a hook is not callable, or its arguments are not a tuple.
    """
    b = base or Hooks()
    setup, setup_args, cleanup, cleanup_args = b
    if SETUP in kwargs:
        setup = _check_fn(SETUP, kwargs.pop(SETUP))
    if SETUP_ARGS in kwargs:
        setup_args = _check_args(SETUP_ARGS, kwargs.pop(SETUP_ARGS))
    if CLEANUP in kwargs:
        cleanup = _check_fn(CLEANUP, kwargs.pop(CLEANUP))
    if CLEANUP_ARGS in kwargs:
        cleanup_args = _check_args(CLEANUP_ARGS, kwargs.pop(CLEANUP_ARGS))
    if setup is None and cleanup is None:
        return None
    return Hooks(setup, setup_args, cleanup, cleanup_args)


def call_hooks(kwargs: dict[str, Any], base: Hooks | None) -> Hooks | None:
    """Hooks a call sets in ``kwargs`` (over ``base``), or None when it names none.

    None means "use the defaults baked into the remote function"; a call that turns
    every hook off gets an empty ``Hooks()``, so the defaults are not applied.
    """
    if not kwargs or HOOK_KEYS.isdisjoint(kwargs):
        return None
    return pop_hooks(kwargs, base) or Hooks()


def merge_hooks(kwargs: dict[str, Any], base: Hooks | None) -> Hooks | None:
    """Hooks of one call: ``base`` (from ``.options``) overridden by the call's kwargs.

    Cheap when the call names no hook: it returns ``base`` without a copy.
    """
    if not kwargs or HOOK_KEYS.isdisjoint(kwargs):
        return base
    return pop_hooks(kwargs, base)


def hooks_as_options(hooks: Hooks) -> dict[str, Any]:
    """The options that give ``hooks`` back (for a copy made by ``.options``)."""
    return {
        SETUP: hooks.setup,
        SETUP_ARGS: hooks.setup_args,
        CLEANUP: hooks.cleanup,
        CLEANUP_ARGS: hooks.cleanup_args,
    }


def run_with_hooks(hooks: Hooks | None, body: Callable[[], Any]) -> Any:
    """Run ``body`` between the setup and cleanup of ``hooks`` (CHIA's semantics)."""
    if hooks is None:
        return body()
    if hooks.setup is not None:
        hooks.setup(*hooks.setup_args)
    try:
        return body()
    finally:
        if hooks.cleanup is not None:
            try:
                hooks.cleanup(*hooks.cleanup_args)
            except Exception:
                log.exception("chia cleanup hook raised; ignored (the function's outcome stands)")


def run_actor_method(instance: Any, method: str, hooks: Hooks, *args: Any, **kwargs: Any) -> Any:
    """Run ``instance.method(*args, **kwargs)`` between hooks, inside the actor.

    Submitted through the actor's ``__ray_call__``, so it runs in the actor's process
    like the method itself.

    Raises:
        TypeError: If the method is a coroutine function (hooks need a sync method).
    """
    import inspect

    bound = getattr(instance, method)
    if inspect.iscoroutinefunction(bound):
        raise TypeError(f"setup/cleanup hooks need a sync actor method; {method} is async")
    return run_with_hooks(hooks, lambda: bound(*args, **kwargs))
