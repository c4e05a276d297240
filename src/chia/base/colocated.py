"""Placement-group plumbing for node classes whose members must share one worker.

Any subsystem whose artifacts live on a worker's filesystem (a gem5 checkout, a hammer
obj_dir...) can pin a family of ``@ChiaFunction`` members to one placement-group bundle
and so guarantee they land on the same worker::

    class Gem5Node(ColocatedNode):
        _MEMBER_FNS = ("build", "run")
        _DEFAULT_BUNDLE = {"CPU": 1}

        build = ChiaFunction(num_cpus=0.5)(build_fn)
        run = ChiaFunction(num_cpus=0.5)(run_fn)

    with Gem5Node() as node:               # reserves a 1-bundle PG, released on exit
        get(node.build.chia_remote(...))   # pinned to the node's bundle
        get(node.run.chia_remote(...))     # same bundle, same worker
    Gem5Node.run.chia_remote(...)          # the class attribute stays unpinned
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any

import ray
from ray.util.placement_group import PlacementGroup, placement_group, remove_placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from chia.base._ray_util import resource_demands

__all__ = ["ColocatedNode", "PinnedChiaFn"]

log = logging.getLogger(__name__)


class PinnedChiaFn:
    """A ``@ChiaFunction`` whose ``.chia_remote`` is pre-pinned to a placement-group bundle.

    Resource requirements are carried over unchanged by ``.options()``; with no
    scheduling opts it delegates to the raw function, so the caller's own placement
    applies.

    Args:
        fn: The ``@ChiaFunction``-wrapped function.
        scheduling_opts: Ray options that pin it (empty: no pinning).
    """

    def __init__(self, fn: Any, scheduling_opts: dict[str, Any]) -> None:
        self._fn = fn
        self._opts = dict(scheduling_opts)
        self._pinned = fn.options(**self._opts) if self._opts else fn
        self.__name__ = getattr(fn, "__name__", "pinned")
        self.__doc__ = getattr(fn, "__doc__", None)

    @property
    def scheduling_opts(self) -> dict[str, Any]:
        """The pinning options (empty when the caller handles placement)."""
        return dict(self._opts)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the function locally."""
        return self._fn(*args, **kwargs)

    def chia_remote(self, *args: Any, **kwargs: Any) -> Any:
        """Dispatch on the pinned bundle."""
        return self._pinned.chia_remote(*args, **kwargs)

    def chia_remote_blocking(self, *args: Any, **kwargs: Any) -> Any:
        """Dispatch on the pinned bundle and wait for the value."""
        return self._pinned.chia_remote_blocking(*args, **kwargs)

    def options(self, **override: Any) -> PinnedChiaFn:
        """Override Ray options (e.g. resources) while staying pinned."""
        return PinnedChiaFn(self._fn.options(**override), self._opts)


class ColocatedNode:
    """Base for node classes whose member ChiaFunctions must share one worker.

    Subclasses declare ``_MEMBER_FNS`` (names of class-level ``@ChiaFunction`` members,
    re-bound per instance as ``PinnedChiaFn``) and ``_DEFAULT_BUNDLE`` (the resource
    shape of a self-reserved bundle). Pinning never alters a member's resource demands;
    a member that does not fit the bundle is allowed, but construction logs a warning
    naming it and dispatching it raises ``ValueError`` at submission.

    Placement is decided once at construction: a given ``placement_group`` is used (and
    never removed by this node); with none and ``require_colocated=True`` a 1-bundle PG is
    reserved (and released by ``close()``); with ``require_colocated=False`` nothing is
    pinned. Usable as a context manager.

    Args:
        placement_group: An existing PG to schedule onto.
        require_colocated: With no PG given, reserve one so all members co-locate.
        bundle_index: Which bundle of the PG to pin to.
        reserve_bundle: Shape of a self-reserved bundle (default ``_DEFAULT_BUNDLE``).
        pg_strategy: Placement strategy for a self-reserved PG.
        wait_for_pg: Block until a self-reserved PG is ready.
        pg_ready_timeout_s: Optional timeout for that wait (the PG is released on timeout).
    """

    _MEMBER_FNS: tuple[str, ...] = ()
    _DEFAULT_BUNDLE: dict[str, float] = {"CPU": 1.0}

    def __init__(
        self,
        placement_group: PlacementGroup | None = None,
        require_colocated: bool = True,
        *,
        bundle_index: int = 0,
        reserve_bundle: dict[str, float] | None = None,
        pg_strategy: str = "STRICT_PACK",
        wait_for_pg: bool = True,
        pg_ready_timeout_s: float | None = None,
    ) -> None:
        self._owns = False
        self._bundle_index = bundle_index
        self._pg: PlacementGroup | None = placement_group
        if placement_group is None and require_colocated:
            self._pg = self._reserve(
                dict(reserve_bundle or self._DEFAULT_BUNDLE),
                pg_strategy,
                wait_for_pg,
                pg_ready_timeout_s,
            )
            self._owns = True
        self._warn_unfit()
        opts = self.task_options
        for name in self._MEMBER_FNS:
            setattr(self, name, PinnedChiaFn(getattr(type(self), name), opts))

    def _reserve(
        self, bundle: dict[str, float], strategy: str, wait: bool, timeout: float | None
    ) -> PlacementGroup:
        pg: PlacementGroup = placement_group([bundle], strategy=strategy)
        if wait:
            try:
                ray.get(pg.ready(), timeout=timeout)
            except BaseException:
                remove_placement_group(pg)
                raise
        return pg

    def _bundle(self) -> dict[str, float]:
        if self._pg is None:
            return {}
        specs: list[dict[str, float]] = self._pg.bundle_specs
        return dict(specs[self._bundle_index]) if self._bundle_index < len(specs) else {}

    def _warn_unfit(self) -> None:
        if self._pg is None:
            return
        bundle = self._bundle()
        unfit = []
        for name in self._MEMBER_FNS:
            opts = getattr(getattr(type(self), name), "ray_options", {})
            demands = resource_demands(opts)
            if any(bundle.get(k, 0.0) < v for k, v in demands.items()):
                unfit.append(f"{name} {demands}")
        if unfit:
            log.warning(
                "%s: bundle %s cannot fit member(s): %s; they cannot dispatch through this node",
                type(self).__name__,
                bundle,
                "; ".join(unfit),
            )

    @property
    def placement_group(self) -> PlacementGroup | None:
        """The PG members are pinned to (None when the caller handles placement)."""
        return self._pg

    @property
    def owns_placement_group(self) -> bool:
        """True iff this node reserved its PG and will release it on close()."""
        return self._owns

    @property
    def task_options(self) -> dict[str, Any]:
        """Scheduling opts that co-locate an actor (e.g. a ChiaTool) with this bundle.

        Empty when the node has no placement group.
        """
        if self._pg is None:
            return {}
        return {
            "scheduling_strategy": PlacementGroupSchedulingStrategy(
                placement_group=self._pg, placement_group_bundle_index=self._bundle_index
            )
        }

    def close(self) -> None:
        """Release a self-reserved placement group. Idempotent; a given PG is kept."""
        if self._owns and self._pg is not None:
            remove_placement_group(self._pg)
            self._owns = False

    def __enter__(self) -> ColocatedNode:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
