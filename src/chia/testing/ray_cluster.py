"""Real Ray for tests: one local instance per test session, and small multi-node clusters.

``ensure_local_ray()`` starts a 2-CPU local Ray (with the dashboard, which the state API
needs) unless one is already connected. ``local_cluster()`` shuts any local instance
down and raises a ``ray.cluster_utils.Cluster`` (head + workers) for a multi-node
scenario; the next ``ensure_local_ray()`` starts a fresh local instance again.

Workers inherit the driver's ``sys.path`` through ``PYTHONPATH`` so functions defined in
test modules can be imported on them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ray
from ray.cluster_utils import Cluster

from chia.base.dispatch_proxy import reset_node_cache

__all__ = ["ensure_local_ray", "local_cluster", "shutdown_ray", "worker_pythonpath"]

_FAST_HEALTH_CHECKS = {
    "health_check_initial_delay_ms": 0,
    "health_check_period_ms": 500,
    "health_check_failure_threshold": 3,
}


def worker_pythonpath() -> str:
    """``PYTHONPATH`` that lets workers import everything this process can."""
    entries = [p for p in sys.path if p and os.path.isdir(p)]
    existing = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join(p for p in dict.fromkeys([*entries, *existing.split(os.pathsep)]) if p)


@contextmanager
def _worker_env() -> Iterator[None]:
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = worker_pythonpath()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = previous


def ensure_local_ray(num_cpus: int = 2, resources: dict[str, float] | None = None) -> None:
    """Start a local Ray instance for tests unless this process is already connected."""
    if ray.is_initialized():
        return
    reset_node_cache()
    with _worker_env():
        ray.init(
            address="local",  # never join a cluster someone else started on this host
            num_cpus=num_cpus,
            resources=resources,
            include_dashboard=True,
            log_to_driver=False,
            _system_config=_FAST_HEALTH_CHECKS,
        )


def shutdown_ray() -> None:
    """Disconnect (and stop a local instance) if connected."""
    if ray.is_initialized():
        ray.shutdown()


@contextmanager
def local_cluster(
    head: dict[str, Any] | None = None, workers: list[dict[str, Any]] | None = None
) -> Iterator[Cluster]:
    """Raise a multi-node cluster on this machine and connect this process to it.

    Args:
        head: ``add_node`` arguments of the head (default ``num_cpus=1``).
        workers: ``add_node`` arguments of each worker node (``resources``, ``labels``...).

    Yields:
        The ``Cluster``; it is torn down (and this process disconnected) on exit.
    """
    shutdown_ray()
    head_args = {"num_cpus": 1, "include_dashboard": False, **(head or {})}
    head_args.setdefault("_system_config", _FAST_HEALTH_CHECKS)
    with _worker_env():
        cluster = Cluster(initialize_head=True, head_node_args=head_args)
        try:
            for node_args in workers or []:
                cluster.add_node(**{"num_cpus": 1, **node_args})
            cluster.wait_for_nodes()
        except BaseException:
            cluster.shutdown()  # type: ignore[no-untyped-call]
            raise
    try:
        reset_node_cache()
        ray.init(address=cluster.address, log_to_driver=False)
        yield cluster
    finally:
        shutdown_ray()
        cluster.shutdown()  # type: ignore[no-untyped-call]
