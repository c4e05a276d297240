"""The ray launcher: each agent of the slice runs as a Ray actor on a Ray cluster.

``chia spawn-site --launcher ray --ray-address A`` starts one driver process
(``python -m chia.site.ray_launcher launch.json``) under the usual launcher machinery, so
logs, SIGTERM and exit codes behave as with the local and mpiexec launchers. The driver
connects to the cluster and creates one actor per agent with that agent's Ray resources
(``--ray-resources``); each actor runs :func:`chia.site.host.host_agent` until its agent
stops. Landmark lines come back through Ray's log forwarding, without Ray's actor prefix
(they name site, rank and agent themselves). On SIGTERM the driver asks
every actor to stop its agent (the agent records a clean stop), waits a grace period, then
kills the actors. Actors are not detached: if the driver dies, Ray removes them.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from chia.errors import ChiaUsageError
from chia.site.launch import SiteLaunch
from chia.site.launchers import Launcher

__all__ = ["RayLauncher", "cluster_client_env", "main"]

_STOP_GRACE_S = 10.0


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

    def __init__(self, launch: SiteLaunch, env: Mapping[str, str]) -> None:
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
        super().__init__(launch, {**env, **client_env, **driver_env})

    def commands(self) -> list[tuple[list[str], str]]:
        """The driver command line."""
        return [([sys.executable, "-m", "chia.site.ray_launcher", str(self.launch.path)], "ray")]


class _HostActor:
    """Hosts one agent inside a Ray worker process (an async actor)."""

    def __init__(self, launch_path: str, rank: int) -> None:
        self.launch_path = launch_path
        self.rank = rank
        self.task: asyncio.Task[int] | None = None

    async def run(self) -> int:
        """Host the agent until it stops; return its exit code."""
        import ray

        from chia.campaign import load_campaign
        from chia.exchange.settings import open_factory
        from chia.site.host import host_agent

        launch = SiteLaunch.read(Path(self.launch_path))
        node = ray.get_runtime_context().get_node_id()
        agent = launch.agents[self.rank]
        print(f"[{launch.site} rank{self.rank}] {agent}: on ray node {node}", flush=True)
        loaded = load_campaign(launch.campaign_path)
        self.task = asyncio.ensure_future(
            host_agent(launch, loaded, self.rank, open_factory(launch.exchange), rank=self.rank)
        )
        try:
            return await self.task
        except asyncio.CancelledError:
            return 1

    async def stop(self) -> None:
        """Cancel the agent (it records a clean stop, as on SIGTERM)."""
        if self.task is not None and not self.task.done():
            self.task.cancel()


def _collect(ray: Any, refs: dict[Any, int], codes: dict[int, int], timeout: float) -> None:
    ready, _ = ray.wait(list(refs), num_returns=len(refs), timeout=timeout)
    for ref in ready:
        rank = refs.pop(ref)
        try:
            codes[rank] = int(ray.get(ref))
        except Exception as exc:  # the actor died (its node was lost) or raised
            print(f"rank {rank} failed: {exc}", flush=True)
            codes[rank] = 1


def main(argv: list[str] | None = None) -> int:
    """Run the driver; the exit code is the worst agent's."""
    parser = argparse.ArgumentParser(prog="python -m chia.site.ray_launcher")
    parser.add_argument("launch", help="Path of the site's launch.json.")
    args = parser.parse_args(argv)
    from chia.site.lifeline import die_with_parent

    die_with_parent()
    launch = SiteLaunch.read(Path(args.launch))
    stop: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.append(signum)

    import ray

    ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=True, logging_level=logging.WARNING)
    for signum in (signal.SIGINT, signal.SIGTERM):  # after ray.init, which installs its own
        signal.signal(signum, on_signal)
    actor_cls: Any = ray.remote(_HostActor)
    actors = []
    for rank, agent in enumerate(launch.agents):
        resources = {**launch.ray_resources.get("*", {}), **launch.ray_resources.get(agent, {})}
        num_cpus = resources.pop("CPU", 0)
        actors.append(
            actor_cls.options(
                num_cpus=num_cpus, resources=resources, name=None, max_concurrency=4
            ).remote(str(launch.path), rank)
        )
    refs = {actor.run.remote(): rank for rank, actor in enumerate(actors)}
    codes: dict[int, int] = {}
    while refs and not stop:
        _collect(ray, refs, codes, timeout=0.2)
    if stop:
        for actor in actors:
            actor.stop.remote()
        deadline = time.monotonic() + _STOP_GRACE_S
        while refs and time.monotonic() < deadline:
            _collect(ray, refs, codes, timeout=0.2)
        codes.update({rank: 1 for rank in refs.values()})
    for actor in actors:
        ray.kill(actor)
    time.sleep(0.5)  # let Ray forward the actors' last lines
    ray.shutdown()
    return 1 if stop else max(codes.values(), default=0)


if __name__ == "__main__":
    sys.exit(main())
