"""Head-relayed task dispatch for workers on reverse-tunneled nodes.

Ray's ownership model makes the submitting worker the owner of a task: it negotiates
worker leases directly with the target raylet and serves the result. chia's tunnels are
hub-and-spoke (tunneled worker <-> head only), so a tunneled worker cannot own a task
that lands on a LAN node, and a LAN worker cannot own one that lands on a tunneled node:
the lease RPC has no route and the task sits in PENDING_NODE_ASSIGNMENT forever.

When ``chia_remote`` runs on a worker that cannot directly reach every node the task
could land on, the dispatch is relayed through a ``DispatchProxy`` actor pinned to the
head node: the proxy owns the inner task, awaits its value and returns it, so every leg
rides a link that exists. ``should_proxy`` decides per dispatch and is fail-safe: it
relays unless it can prove every candidate node is directly reachable. The head never
relays.

A node is *tunneled* when it carries the label ``chia.io/tunneled=true`` or the custom
resource ``chia_tunneled``. Costs and limits: args and results cross the network twice;
``num_returns > 1`` falls back to direct dispatch (with a warning); ObjectRefs nested
inside proxied args must be owned by a reachable worker. The proxy is per job
(``chia_dispatch_proxy_<job_id>``), detached, and idles at ``num_cpus=0``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ray
from ray.util.placement_group import PlacementGroup, placement_group_table
from ray.util.scheduling_strategies import (
    NodeAffinitySchedulingStrategy,
    PlacementGroupSchedulingStrategy,
)

from chia.base._ray_util import (
    CHIA_NAMESPACE,
    current_node_id,
    head_node_id,
    pinned_singleton,
    ray_nodes,
    resource_demands,
)

__all__ = [
    "TUNNELED_LABEL",
    "TUNNELED_RESOURCE",
    "DispatchProxy",
    "get_dispatch_proxy",
    "reset_node_cache",
    "should_proxy",
]

TUNNELED_LABEL = "chia.io/tunneled"
TUNNELED_RESOURCE = "chia_tunneled"
_HEAD_RESOURCE = "node:__internal_head__"
_VIEW_TTL_S = 10.0


@dataclass(frozen=True)
class _Node:
    node_id: str
    is_head: bool
    tunneled: bool
    resources: dict[str, float]
    labels: dict[str, str]


_view: dict[str, _Node] = {}
_view_at = 0.0
_view_lock = threading.Lock()
_my_node: str | None = None
_on_head = False  # a process never changes node: once seen on the head, never relay


def reset_node_cache() -> None:
    """Forget the cached node view (call after connecting to a different cluster)."""
    global _view, _view_at, _my_node, _on_head
    with _view_lock:
        _view, _view_at, _my_node, _on_head = {}, 0.0, None, False


def _nodes(refresh: bool = False) -> dict[str, _Node]:
    """The alive nodes, refreshed at most every few seconds (or now, if asked)."""
    global _view, _view_at
    with _view_lock:
        if refresh or not _view or time.monotonic() - _view_at > _VIEW_TTL_S:
            fresh = {}
            for raw in ray_nodes():
                if not raw.get("Alive"):
                    continue
                res = dict(raw.get("Resources", {}))
                labels = {str(k): str(v) for k, v in (raw.get("Labels") or {}).items()}
                tunneled = labels.get(TUNNELED_LABEL, "").lower() in {"true", "1", "yes"}
                fresh[raw["NodeID"]] = _Node(
                    node_id=raw["NodeID"],
                    is_head=_HEAD_RESOURCE in res,
                    tunneled=tunneled or res.get(TUNNELED_RESOURCE, 0) > 0,
                    resources=res,
                    labels=labels,
                )
            _view, _view_at = fresh, time.monotonic()
        return _view


def _directly_reachable(src: _Node, dst: _Node) -> bool:
    """Can a worker on ``src`` own a task on ``dst``? Spokes reach only the head."""
    if src.node_id == dst.node_id or src.is_head or dst.is_head:
        return True
    return not (src.tunneled or dst.tunneled)


def _fits(node: _Node, demands: dict[str, float], labels: dict[str, str]) -> bool:
    if any(node.resources.get(k, 0.0) < v for k, v in demands.items()):
        return False
    return all(node.labels.get(k) == v for k, v in labels.items())


def _pg_nodes(pg: PlacementGroup, index: int) -> list[str] | None:
    table = placement_group_table(pg)
    by_bundle: dict[int, str] = table.get("bundles_to_node_id") or {}
    if not by_bundle:
        return None  # not placed yet: unknown
    if index >= 0:
        node = by_bundle.get(index)
        return [node] if node else None
    return list(by_bundle.values())


def _candidates(opts: dict[str, Any], nodes: dict[str, _Node]) -> list[str] | None:
    """Node ids the task could land on, or None when that cannot be determined."""
    strategy = opts.get("scheduling_strategy")
    if isinstance(strategy, NodeAffinitySchedulingStrategy) and not strategy.soft:
        return [strategy.node_id]
    if isinstance(strategy, PlacementGroupSchedulingStrategy):
        if strategy.placement_group is None:
            return None
        return _pg_nodes(strategy.placement_group, strategy.placement_group_bundle_index)
    if opts.get("placement_group") not in (None, "default"):
        return _pg_nodes(opts["placement_group"], opts.get("placement_group_bundle_index", -1))
    if strategy not in (None, "DEFAULT", "SPREAD") and not isinstance(
        strategy, NodeAffinitySchedulingStrategy
    ):
        return None
    demands = resource_demands(opts)
    labels = {str(k): str(v) for k, v in (opts.get("label_selector") or {}).items()}
    return [n.node_id for n in nodes.values() if _fits(n, demands, labels)]


def should_proxy(opts: dict[str, Any] | None = None) -> bool:
    """True when this dispatch must be relayed through the head DispatchProxy.

    Relays iff the task could land on a node the current worker cannot reach directly.
    Fail-safe: anything that cannot be determined relays. The head never relays.

    Args:
        opts: The dispatch's Ray options (resources, scheduling strategy, ...).
    """
    global _my_node, _on_head
    if _on_head:
        return False
    try:
        if _my_node is None:
            _my_node = current_node_id()
        nodes = _nodes()
        if _my_node not in nodes:
            nodes = _nodes(refresh=True)
        me = nodes.get(_my_node)
        if me is None:
            return True
        if me.is_head:
            _on_head = True
            return False
        if not me.tunneled and not any(n.tunneled for n in nodes.values()):
            return False
        candidates = _candidates(opts or {}, nodes)
        if candidates is None:
            return True
        return any(c not in nodes or not _directly_reachable(me, nodes[c]) for c in candidates)
    except Exception:
        return True


class DispatchProxy:
    """Head-pinned async actor that submits tasks on behalf of unreachable workers."""

    def __init__(self) -> None:
        self._relayed = 0

    async def relay(self, submit: Callable[[], Any]) -> Any:
        """Submit the task here (the proxy owns it), await it, and return its value."""
        self._relayed += 1
        return await submit()

    async def relayed(self) -> int:
        """How many dispatches this proxy has relayed."""
        return self._relayed

    async def node_id(self) -> str:
        """The node this proxy runs on (the head)."""
        return current_node_id()


def get_dispatch_proxy() -> Any:
    """Return this job's proxy actor, creating it on the head node if needed."""
    job = ray.get_runtime_context().get_job_id()
    return pinned_singleton(
        DispatchProxy,
        f"chia_dispatch_proxy_{job}",
        CHIA_NAMESPACE,
        head_node_id(),
        max_concurrency=1000,
    )
