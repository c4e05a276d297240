"""``ObjectRefCallback`` and ``get()``: resolve refs and run post-resolution hooks."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, overload

import ray
from ray.experimental.compiled_dag_ref import CompiledDAGRef

__all__ = ["ObjectRefCallback", "get"]

R = TypeVar("R")


class ObjectRefCallback(Generic[R]):
    """An ObjectRef paired with a callback that ``get()`` runs on resolution.

    Lets a producer attach a post-resolution hook to the ref it hands back, so callers can
    stay async and simply ``get()`` it: the callback runs at fetch time and its return
    becomes ``get``'s result, without passing ``callback=`` themselves. ``.ref`` exposes
    the underlying ObjectRef for ``ray.wait`` / ``chia_wait()``.

    Args:
        ref: The underlying ObjectRef.
        callback: Called with the resolved value; its return value is what ``get`` returns.
    """

    __slots__ = ("callback", "ref")

    def __init__(self, ref: ray.ObjectRef[R], callback: Callable[[Any], Any]) -> None:
        self.ref = ref
        self.callback = callback

    def __repr__(self) -> str:
        return f"ObjectRefCallback({self.ref!r}, {self.callback!r})"

    def task_id(self) -> Any:
        """Return the task id of the underlying ref (as ``ObjectRef.task_id`` does)."""
        return self.ref.task_id()


def _resolve_many(refs: Sequence[Any], timeout: float | None) -> list[Any]:
    raw = [r.ref if isinstance(r, ObjectRefCallback) else r for r in refs]
    values = list(ray.get(raw, timeout=timeout))
    for i, r in enumerate(refs):
        if isinstance(r, ObjectRefCallback):
            values[i] = r.callback(values[i])
    return values


@overload
def get(
    ref: ObjectRefCallback[Any],
    *,
    timeout: float | None = None,
    callback: Callable[[Any], Any] | None = None,
    _use_object_store: bool = False,
) -> Any: ...


@overload
def get(
    ref: Sequence[ray.ObjectRef[R]],
    *,
    timeout: float | None = None,
    callback: Callable[[Any], Any] | None = None,
    _use_object_store: bool = False,
) -> list[R]: ...


@overload
def get(
    ref: Sequence[ray.ObjectRef[Any]],
    *,
    timeout: float | None = None,
    callback: Callable[[Any], Any] | None = None,
    _use_object_store: bool = False,
) -> list[Any]: ...


@overload
def get(
    ref: ray.ObjectRef[R],
    *,
    timeout: float | None = None,
    callback: Callable[[Any], Any] | None = None,
    _use_object_store: bool = False,
) -> R: ...


@overload
def get(
    ref: Sequence[CompiledDAGRef],
    *,
    timeout: float | None = None,
    callback: Callable[[Any], Any] | None = None,
    _use_object_store: bool = False,
) -> list[Any]: ...


@overload
def get(
    ref: CompiledDAGRef,
    *,
    timeout: float | None = None,
    callback: Callable[[Any], Any] | None = None,
    _use_object_store: bool = False,
) -> Any: ...


def get(
    ref: Any,
    *,
    timeout: float | None = None,
    callback: Callable[[Any], Any] | None = None,
    _use_object_store: bool = False,
) -> Any:
    """Wrapper around ``ray.get()`` for use in Chia flows.

    Overloads mirror ``ray.get()`` so a single ``ObjectRef[R]`` returns ``R`` and a
    sequence of them returns ``List[R]``. Elements of a sequence may be
    ``ObjectRefCallback``s; each runs its own callback.

    Args:
        ref: An ObjectRef, an ``ObjectRefCallback``, or a sequence of them.
        timeout: Seconds to wait, as in ``ray.get`` (raises ``GetTimeoutError``).
        callback: Invoked with the resolved value; its return value is what ``get``
            returns. If ``ref`` carries its own callback they compose: the ref's own
            callback first, then this one.
        _use_object_store: Accepted for compatibility; values always come through Ray's
            object store.

    Returns:
        The resolved value (or list of values), after any callbacks.
    """
    del _use_object_store
    if isinstance(ref, ObjectRefCallback):
        value = ref.callback(ray.get(ref.ref, timeout=timeout))
    elif isinstance(ref, (list, tuple)):
        value = _resolve_many(ref, timeout)
    else:
        value = ray.get(ref, timeout=timeout)
    return callback(value) if callback is not None else value
