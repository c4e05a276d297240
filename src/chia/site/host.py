"""The host process: ``python -m chia.site.host <launch.json> [--rank N | --all]``.

Process rank ``N`` hosts its share of the slice (one agent by default; see
``SiteLaunch.agents_per_process``). For each agent it reads the agent's journal (its own
events file: a restarted or resumed agent continues from it, see
:mod:`chia.agent.journal`), registers the deterministic uid, starts the agent in an
Academy runtime (so it answers pings), waits until every allowed peer answers a ping,
then takes messages; the host of the initial agent sends the kickoff when the launch says
so and the journal does not show it sent. Landmark lines go to stdout, flushed, one per
step. ``--all`` hosts the whole slice in one process (required by the in-process
``local`` exchange).

A supervisor that restarts a dead host process says so in the environment:
``CHIA_RESTART=<n>`` and ``CHIA_RESTART_CAUSE=<how the last one ended>``. The host then
skips the "uid already live" check (the old incarnation is known to be dead) and records
an ``agent_restarted`` event.
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
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from academy.exchange import ExchangeFactory
from academy.runtime import Runtime

from chia.agent.campaign_agent import AgentSetup, CampaignAgent
from chia.agent.factory import make_policy
from chia.agent.journal import Journal, recover
from chia.agent.policy import ManagedPolicy
from chia.campaign import LMSettings, LoadedCampaign, load_campaign
from chia.errors import ChiaError, PeerTimeoutError
from chia.events import (
    AgentRegistered,
    AgentRestarted,
    AgentState,
    AgentStatus,
    BootstrapDispatched,
    BootstrapSkipped,
    EventWriter,
    LamportClock,
    PeersUp,
    PeersWaiting,
    events_path,
    read_snapshot,
    write_snapshot,
)
from chia.exchange.client import user_client
from chia.exchange.health import watch_exchange
from chia.exchange.identity import agent_id, agent_uid, register_agent
from chia.exchange.liveness import wait_for_peers
from chia.exchange.serialization import runtime_config
from chia.exchange.settings import open_factory
from chia.processes import die_with_parent
from chia.site.bootstrap import kickoff_envelope, send_envelope
from chia.site.launch import SiteLaunch
from chia.site.rank import detect_rank
from chia.site.relay_endpoint import resolve_relay

__all__ = ["RESTART_CAUSE_ENV", "RESTART_ENV", "host_agent", "main"]

#: Set by a supervisor on a restarted host process: which restart this is (1, 2...).
RESTART_ENV = "CHIA_RESTART"
#: Set with it: how the previous incarnation ended (e.g. ``signal 9``).
RESTART_CAUSE_ENV = "CHIA_RESTART_CAUSE"


def _restart_cause(launch: SiteLaunch, journal: Journal) -> str | None:
    """Why this start is a restart (None for a first start)."""
    if os.environ.get(RESTART_ENV):
        return os.environ.get(RESTART_CAUSE_ENV) or "restarted"
    if launch.resume and not journal.is_new:
        return "site resumed"
    return None


def _model_settings(launch: SiteLaunch) -> LMSettings | None:
    """The launch's model override, its ``relay`` base URL read from the host file now."""
    if launch.lm is None:
        return None
    return resolve_relay(launch.lm, launch.relay_host_file, launch.site)


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
    path = events_path(launch.site_dir, name)
    journal = recover(path)
    if journal.torn_tail:
        say(f"dropped a torn last line of {path}")
    if journal.done:
        say(f"already finished ({journal.finished}) in an earlier incarnation: nothing to do")
        return 0
    cause = _restart_cause(launch, journal)
    writer = EventWriter(
        path,
        run_id=launch.run_id,
        site=launch.site,
        writer=name,
        clock=LamportClock(journal.clock),
    )
    policy = make_policy(
        loaded.spec,
        prompts=loaded.prompts,
        agent=spec,
        lm=_model_settings(launch),
        workdir=loaded.directory,
        run_dir=launch.site_dir,
        replay=launch.replay,
        landmark=say,
        prices=launch.prices,
    )
    if isinstance(policy, ManagedPolicy):
        try:
            await policy.start()
        except BaseException:
            writer.close()
            raise
    say(f"policy {policy.name}")
    unwatch = watch_exchange(factory, landmark=say, writer=writer)  # lost / back lines
    async with user_client(factory, name=f"{name}-host") as client:
        registration = await register_agent(
            client, CampaignAgent, launch.run_id, name, check_live=cause is None or launch.resume
        )
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
    if cause is not None:
        journal.restarts += 1
        writer.emit(
            AgentRestarted,
            restart=journal.restarts,
            cause=cause,
            replayed_events=journal.events,
            pending_messages=len(journal.undecided),
            pending_sends=len(journal.unacked),
        )
        say(
            f"restarted ({cause}): recovered {journal.events} events, "
            f"{len(journal.undecided)} message(s) to decide, {len(journal.unacked)} to resend"
        )
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
        journal=journal,
        fsync=launch.fsync,
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
            peers_answered = await _start(agent, launch, loaded, journal, say)
            await runtime.wait_shutdown()
    except asyncio.CancelledError:
        interrupted = True
        agent.stop()
        say("stopped by signal")
    finally:
        if isinstance(policy, ManagedPolicy):
            await policy.close()
        unwatch()
        writer.close()
    if agent.outcome is AgentState.FINISHED and not interrupted:
        return 0
    return agent.exit_code if peers_answered else 2


async def _start(
    agent: CampaignAgent,
    launch: SiteLaunch,
    loaded: LoadedCampaign,
    journal: Journal,
    say: Callable[[str], None],
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
    if setup.spec.name != loaded.spec.initial_agent or journal.bootstrapped:
        return True
    if not launch.bootstrap:
        setup.writer.emit(BootstrapSkipped, reason="--no-bootstrap: waiting for chia bootstrap")
        say("bootstrap skipped (--no-bootstrap): run `chia bootstrap` once every site is up")
        return True
    envelope = kickoff_envelope(loaded.spec, launch.run_id, setup.spec.name)
    await send_envelope(envelope, deadline_s=loaded.spec.limits.delivery_deadline_s)
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
    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    for signum in stops:
        loop.add_signal_handler(signum, lambda: main_task.cancel() if main_task else None)
    try:
        codes = await asyncio.gather(
            *(host_agent(launch, loaded, index, factory, rank=rank) for index in indices)
        )
    except asyncio.CancelledError:
        return 1
    finally:
        # A second signal (the terminal's group SIGINT, then the site's SIGTERM) must not
        # land while asyncio.run closes the loop and its wakeup descriptor: ignore them.
        for signum in stops:
            loop.remove_signal_handler(signum)
            signal.signal(signum, signal.SIG_IGN)
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
        _record_failure(launch, [launch.agents[i] for i in indices], str(exc))
        return exc.exit_code


def _record_failure(launch: SiteLaunch, agents: list[str], error: str) -> None:
    """Say in each agent's status that its host failed (it may never have started it).

    Without this a status left by an earlier incarnation (e.g. ``finished``) would speak
    for an agent whose resume was refused.
    """
    for name in agents:
        path = launch.site_dir / "status" / f"{name}.json"
        status = read_snapshot(path, AgentStatus) or AgentStatus(
            run_id=launch.run_id,
            site=launch.site,
            agent=name,
            uid=str(agent_uid(launch.run_id, name)),
            state=AgentState.FAILED,
            updated=datetime.now(timezone.utc),
        )
        update = {"state": AgentState.FAILED, "last_error": error}
        write_snapshot(
            path, status.model_copy(update={**update, "updated": datetime.now(timezone.utc)})
        )


if __name__ == "__main__":
    sys.exit(main())
