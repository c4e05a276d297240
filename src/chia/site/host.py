"""The host process: ``python -m chia.site.host <launch.json> [--rank N | --all]``.

Process rank ``N`` hosts its share of the slice (one agent by default; see
``SiteLaunch.agents_per_process``). For each agent it registers the deterministic uid,
starts the agent in an Academy runtime (so it answers pings), waits until every allowed
peer answers a ping, then takes messages; the host of the initial agent sends the kickoff
when the launch says so. Landmark lines go to stdout, flushed, one per step. ``--all``
hosts the whole slice in one process (required by the in-process ``local`` exchange).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from academy.exchange import ExchangeFactory
from academy.runtime import Runtime

from chia.agent.campaign_agent import AgentSetup, CampaignAgent
from chia.agent.factory import make_policy
from chia.agent.policy import ManagedPolicy
from chia.campaign import LoadedCampaign, load_campaign
from chia.errors import ChiaError, PeerTimeoutError
from chia.events import (
    AgentRegistered,
    AgentState,
    BootstrapDispatched,
    BootstrapSkipped,
    EventWriter,
    PeersUp,
    PeersWaiting,
    events_path,
)
from chia.exchange.client import user_client
from chia.exchange.identity import agent_id, register_agent
from chia.exchange.liveness import wait_for_peers
from chia.exchange.serialization import runtime_config
from chia.exchange.settings import open_factory
from chia.site.bootstrap import kickoff_envelope, send_envelope
from chia.site.launch import SiteLaunch
from chia.site.lifeline import die_with_parent
from chia.site.rank import detect_rank

__all__ = ["host_agent", "main"]


def _landmark(launch: SiteLaunch, rank: int, agent: str) -> Callable[[str], None]:
    prefix = f"[{launch.site} rank{rank}] {agent}:"

    def say(text: str) -> None:
        print(f"{prefix} {text}", flush=True)

    return say


async def host_agent(
    launch: SiteLaunch,
    loaded: LoadedCampaign,
    index: int,
    factory: ExchangeFactory[Any],
    *,
    rank: int | None = None,
) -> int:
    """Host the slice's agent number ``index`` until it stops.

    Args:
        launch: The site launch.
        loaded: The campaign.
        index: The agent's position in ``launch.agents``.
        factory: The exchange factory (one per process: the local exchange lives in it).
        rank: The host process's rank, for landmarks and placement (default: ``index``).

    Returns:
        0 if it finished, 2 if its peers never answered, 1 for any other failure.
    """
    name = launch.agents[index]
    rank = index if rank is None else rank
    spec = loaded.spec.agent(name)
    say = _landmark(launch, rank, name)
    writer = EventWriter(
        events_path(launch.site_dir, name), run_id=launch.run_id, site=launch.site, writer=name
    )
    policy = make_policy(
        loaded.spec, prompts=loaded.prompts, agent=spec, lm=launch.lm, workdir=loaded.directory
    )
    if isinstance(policy, ManagedPolicy):
        try:
            await policy.start()
        except BaseException:
            writer.close()
            raise
    say(f"policy {policy.name}")
    async with user_client(factory, name=f"{name}-host") as client:
        registration = await register_agent(client, CampaignAgent, launch.run_id, name)
    uid = str(registration.agent_id.uid)
    writer.emit(
        AgentRegistered,
        uid=uid,
        exchange=launch.exchange.kind,
        host=socket.gethostname(),
        pid=os.getpid(),
        rank=rank,
    )
    say(f"registered on the {launch.exchange.kind} exchange (uid {uid})")
    setup = AgentSetup(
        run_id=launch.run_id,
        site=launch.site,
        spec=spec,
        task=loaded.spec.user_task,
        limits=loaded.spec.limits,
        uid=uid,
        peers={peer: agent_id(launch.run_id, peer) for peer in spec.allowed_peers},
        writer=writer,
        status_path=launch.site_dir / "status" / f"{name}.json",
        landmark=say,
        rank=rank,
    )
    agent = CampaignAgent(setup, policy)
    runtime = Runtime(
        agent, exchange_factory=factory, registration=registration, config=runtime_config()
    )
    peers_answered = interrupted = False
    try:
        async with runtime:
            peers_answered = await _start(agent, launch, loaded, say)
            await runtime.wait_shutdown()
    except asyncio.CancelledError:
        interrupted = True
        agent.stop()
        say("stopped by signal")
    finally:
        if isinstance(policy, ManagedPolicy):
            await policy.close()
        writer.close()
    if agent.outcome is AgentState.FINISHED and not interrupted:
        return 0
    return 1 if peers_answered else 2


async def _start(
    agent: CampaignAgent, launch: SiteLaunch, loaded: LoadedCampaign, say: Callable[[str], None]
) -> bool:
    """Wait for peers, start taking turns, and send the kickoff if this rank should.

    Returns:
        False if the peers never answered (the agent has failed), else True.
    """
    setup = agent.setup
    peers = sorted(setup.peers)
    agent.set_state(AgentState.WAITING_FOR_PEERS)
    setup.writer.emit(PeersWaiting, peers=peers, timeout_s=launch.startup_timeout_s)
    say(f"waiting for peers {peers} (timeout {launch.startup_timeout_s:g}s)")
    started = time.monotonic()
    try:
        await wait_for_peers(
            agent.agent_exchange_client,
            setup.peers,
            timeout_s=launch.startup_timeout_s,
            on_up=lambda peer: say(f"peer {peer} answered"),
        )
    except PeerTimeoutError as exc:
        agent.fail(str(exc))
        return False
    setup.writer.emit(PeersUp, peers=peers, waited_s=round(time.monotonic() - started, 3))
    say("peers up")
    agent.mark_running()
    say("running")
    if setup.spec.name != loaded.spec.initial_agent:
        return True
    if not launch.bootstrap:
        setup.writer.emit(BootstrapSkipped, reason="--no-bootstrap: waiting for chia bootstrap")
        say("bootstrap skipped (--no-bootstrap): run `chia bootstrap` once every site is up")
        return True
    envelope = kickoff_envelope(loaded.spec, launch.run_id, setup.spec.name)
    await send_envelope(envelope, timeout_s=60.0)
    setup.writer.emit(
        BootstrapDispatched, recipient=setup.spec.name, message_id=envelope.message_id
    )
    say("bootstrap dispatched")
    return True


def settle_heap() -> None:
    """Move everything alive after start-up out of the garbage collector's way.

    A host has imported Academy, pydantic, aiohttp and their kin: some 90k long-lived
    objects that every full collection would walk again, a pause of tens of ms each time
    over a long campaign. ``gc.freeze`` takes microseconds; a ``gc.collect`` first would
    cost ~60 ms per process and finds nothing to free at this point, so it is skipped.
    """
    gc.freeze()


async def _host(launch: SiteLaunch, indices: list[int], rank: int) -> int:
    loaded = load_campaign(launch.campaign_path)
    factory = open_factory(launch.exchange)
    settle_heap()
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, lambda: main_task.cancel() if main_task else None)
    try:
        codes = await asyncio.gather(
            *(host_agent(launch, loaded, index, factory, rank=rank) for index in indices)
        )
    except asyncio.CancelledError:
        return 1
    return max(codes, default=0)


def _log_to_file(launch: SiteLaunch, name: str) -> None:
    """Send library logging (Academy, aiohttp) to ``logs/<name>.debug.log``.

    The terminal keeps only landmark lines; shutdown chatter from the exchange clients
    (cancelled long-polls) stays in the file for whoever needs it.
    """
    log_dir = launch.site_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        filename=log_dir / f"{name}.debug.log",
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)


def main(argv: list[str] | None = None) -> int:
    """Run the host process; the exit code is 0 only if every hosted agent finished."""
    parser = argparse.ArgumentParser(prog="python -m chia.site.host", description=__doc__)
    parser.add_argument("launch", help="Path of the site's launch.json.")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--rank", type=int, help="Host this rank's agents (default: from env).")
    which.add_argument("--all", action="store_true", help="Host every agent of the slice.")
    args = parser.parse_args(argv)
    die_with_parent()
    launch = SiteLaunch.read(Path(args.launch))
    rank = 0 if args.all else (detect_rank() if args.rank is None else args.rank)
    indices = list(range(len(launch.agents))) if args.all else launch.agents_for_rank(rank)
    one = launch.agents[indices[0]] if len(indices) == 1 else f"rank{rank}"
    _log_to_file(launch, "site" if args.all else one)
    try:
        return asyncio.run(_host(launch, indices, rank))
    except ChiaError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
