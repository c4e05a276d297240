"""The ray launcher, parent side: each agent of the slice runs as a Ray actor on a Ray cluster.

``chia spawn-site --launcher ray --ray-address A`` starts one driver process
(``python -m chia.site.ray_driver launch.json``, :mod:`chia.site.ray_driver`) under the
usual launcher machinery, so logs, SIGTERM and exit codes behave as with the local and
mpiexec launchers. This module resolves the cluster's address (a ``host:port`` or the YAML
of a cluster raised with ``chia up``, whose Ray auth settings are passed on) and builds
that command line; the driver creates and supervises the actors.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from chia.errors import ChiaUsageError
from chia.site.environment import SiteRuntime
from chia.site.launch import SiteLaunch
from chia.site.launchers import Launcher

__all__ = ["RayLauncher", "cluster_client_env"]


def cluster_client_env(address: str) -> tuple[str, dict[str, str]]:
    """Resolve ``address`` (``host:port`` or a cluster YAML) to an address and driver env.

    A cluster raised by ``chia up`` carries its Ray auth settings; they are passed on.
    """
    from chia.cluster.state import ClusterState, live_states

    if address.endswith((".yaml", ".yml")) and Path(address).is_file():
        from chia.cluster import load_cluster

        state = ClusterState.load(load_cluster(Path(address)).cluster_name)
        if state is None:
            raise ChiaUsageError(f"cluster {address} is not up: run `chia up {address}`")
        return state.head_address, dict(state.client_env)
    for state in live_states():
        if state.head_address == address:
            return address, dict(state.client_env)
    return address, {}


class RayLauncher(Launcher):
    """One driver process; each agent is a Ray actor on the cluster at ``ray_address``."""

    kind = "ray"

    def __init__(
        self, launch: SiteLaunch, env: Mapping[str, str], runtime: SiteRuntime | None = None
    ) -> None:
        if launch.exchange.kind == "local":
            raise ChiaUsageError(
                "the local exchange is in-process; use --exchange http|redis with ray"
            )
        if not launch.ray_address:
            raise ChiaUsageError(
                "the ray launcher needs --ray-address (host:port of a Ray cluster, e.g. one "
                "raised with `chia up`, or that cluster's YAML file)"
            )
        address, client_env = cluster_client_env(launch.ray_address)
        # Landmark lines already name site, rank and agent: no "(_HostActor pid=...)" prefix.
        driver_env = {"RAY_ADDRESS": address, "RAY_DISABLE_WORKER_LOG_PREFIX": "1"}
        super().__init__(launch, {**env, **client_env, **driver_env}, runtime)

    def commands(self) -> list[tuple[list[str], str]]:
        """The driver command line."""
        driver = [self.runtime.python, "-m", "chia.site.ray_driver", str(self.launch.path)]
        return [(driver, "ray")]
