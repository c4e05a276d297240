"""The Ray driver: one process that runs a site slice's agents as Ray actors and supervises them.

:class:`chia.site.ray_launcher.RayLauncher` starts it as
``python -m chia.site.ray_driver launch.json``. It
connects to the cluster and creates one actor per agent with that agent's Ray resources
(``--ray-resources``); each actor runs :func:`chia.site.host.host_agent` until its agent
stops. Landmark lines come back through Ray's log forwarding, without Ray's actor prefix
(they name site, rank and agent themselves). On SIGTERM the driver asks
every actor to stop its agent (the agent records a clean stop), waits a grace period, then
kills the actors. Actors are not detached: if the driver dies, Ray removes them.

Restarts: the driver re-creates an actor whose worker process died (or whose node was
lost), by the same :class:`~chia.site.supervisor.RestartPolicy` as the other launchers,
and the new incarnation's ``run`` sets ``CHIA_RESTART``/``CHIA_RESTART_CAUSE`` before
hosting the agent. Ray's own actor restarts (``max_restarts`` with ``max_task_retries``)
were not used: they resubmit ``run`` silently, so the driver would neither see the death
(no landmark line, no budget of ours) nor be able to tell the new incarnation that it is
one and why; the only trace inside it, ``was_current_actor_reconstructed``, carries no
count and no cause. Ray does not report the signal that killed a worker, so the cause
reads ``worker process <pid> died (SYSTEM_ERROR)``, from Ray's own exit type.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import re
import signal
import sys
import time
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from types import FrameType
from typing import Any

from chia.site.launch import SiteLaunch
from chia.site.supervisor import (
    ProcessSupervisor,
    RestartPolicy,
    exit_cause,
    process_label,
    record_gave_up,
)

__all__ = ["death_cause", "main"]

_STOP_GRACE_S = 10.0


class _HostActor:
    """Hosts one agent inside a Ray worker process (an async actor)."""

    def __init__(self, launch_path: str, rank: int) -> None:
        self.launch_path = launch_path
        self.rank = rank
        self.task: asyncio.Task[int] | None = None

    async def run(self, restart_env: dict[str, str] | None = None) -> int:
        """Host the agent until it stops; return its exit code.

        Args:
            restart_env: ``CHIA_RESTART``/``CHIA_RESTART_CAUSE`` of a re-created actor
                (set in this worker's environment, which the host reads).
        """
        import ray

        os.environ.update(restart_env or {})
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


class _ActorChild:
    """A host actor's ``run`` call, seen as a process: ``poll()`` gives its exit code."""

    def __init__(self, ray: Any, actor: Any, ref: Any) -> None:
        self.ray = ray
        self.actor = actor
        self.ref = ref
        self.code: int | None = None
        self.cause = ""

    def poll(self) -> int | None:
        """The exit code once ``run`` returned or the actor died, else None."""
        if self.code is None and self.ray.wait([self.ref], timeout=0)[0]:
            try:
                self.code = int(self.ray.get(self.ref))
                self.cause = exit_cause(self.code)
            except self.ray.exceptions.RayActorError as exc:  # its process or node died
                self.code, self.cause = 1, death_cause(exc)
            except Exception as exc:  # run raised: a fault like a crash
                self.code, self.cause = 1, f"{type(exc).__name__}: {exc}"
        return self.code


def death_cause(error: BaseException) -> str:
    """How a Ray actor died, from Ray's error text (Ray does not report the signal)."""
    text = str(error)
    if "node" in text and ("died" in text or "dead" in text) and "worker process" not in text:
        return "its Ray node died"
    pid = re.search(r"\bpid: (\d+)", text)
    kind = re.search(r"Worker exit type: (\w+)", text)
    who = f"worker process {pid.group(1)}" if pid else "worker process"
    return f"{who} died ({kind.group(1)})" if kind else f"{who} died"


def _say(text: str) -> None:
    print(text, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the driver; the exit code is the worst agent's."""
    parser = argparse.ArgumentParser(prog="python -m chia.site.ray_driver")
    parser.add_argument("launch", help="Path of the site's launch.json.")
    args = parser.parse_args(argv)
    from chia.processes import die_with_parent

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

    def spawn(rank: int, restart_env: Mapping[str, str]) -> _ActorChild:
        agent = launch.agents[rank]
        resources = {**launch.ray_resources.get("*", {}), **launch.ray_resources.get(agent, {})}
        num_cpus = resources.pop("CPU", 0)
        actor = actor_cls.options(
            num_cpus=num_cpus, resources=resources, name=None, max_concurrency=4
        ).remote(str(launch.path), rank)
        return _ActorChild(ray, actor, actor.run.remote(dict(restart_env)))

    policy = RestartPolicy(max_restarts=launch.max_restarts)
    children = [
        ProcessSupervisor(
            process_label(launch.site, [agent], rank),
            partial(spawn, rank),
            policy,
            on_give_up=partial(record_gave_up, launch, [agent]),
            say=_say,
            describe=lambda child: child.cause,
        )
        for rank, agent in enumerate(launch.agents)
    ]
    for child in children:
        child.start()
    while not stop and None in [child.check() for child in children]:
        time.sleep(0.1)
    if stop:
        for child in children:
            child.stop()
            if child.running and child.proc is not None:
                child.proc.actor.stop.remote()
        deadline = time.monotonic() + _STOP_GRACE_S
        while any(child.running for child in children) and time.monotonic() < deadline:
            time.sleep(0.2)
    for child in children:
        if child.proc is not None:
            ray.kill(child.proc.actor)
    time.sleep(0.5)  # let Ray forward the actors' last lines
    ray.shutdown()
    return 1 if stop else max((child.code or 0 for child in children), default=0)


if __name__ == "__main__":
    sys.exit(main())
