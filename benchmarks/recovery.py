"""Recovery: time from SIGKILL of an agent's process to the restarted agent answering a ping.

Prints, side by side in one run, on one self-hosted HTTP exchange (memory backend):
  floor - cold start without supervision (chia.testing.recovery.cold_start): a new
          ``python -c`` process that imports ``chia.site.host``
          (the host's whole import graph), registers a bare Academy agent under a preset
          uid and starts its Runtime; timed from ``Popen`` to its first answered ping.
          What any restart must pay at least: a new process, imports, registration.
  chia local - ``chia spawn-site`` (local launcher) running a two-agent counter game
          (never reaching its target, so both agents are busy throughout); the host
          process of one agent (pid from its status file) gets SIGKILL; timed until a
          user client's ping to that agent's uid is answered by the new incarnation
          (spawn-site notices the death, waits its first-restart delay, starts the host,
          which recovers from its journal, re-registers and starts its Runtime).
  chia ray - the same with ``--launcher ray`` on a one-node cluster raised with ``chia
          up``: SIGKILL of the Ray worker process hosting the agent's actor; the driver
          re-creates the actor.
  peer ray - Ray's own actor restart: a bare ``@ray.remote(max_restarts=-1)`` actor on
          the same cluster whose worker gets SIGKILL; timed until a method call on it
          returns from the new worker (``python -m chia.testing.ray_peer``).

Every killed chia agent is on its first restart (each run kills each of its two agents
once, then a fresh run starts), as a lone fault in a campaign would be: later restarts
of the same agent back off on purpose (chia.site.supervisor.RestartPolicy). Pings go out
every 50 ms, each waiting up to 1 s (chia.testing.recovery), so the resolution is about
50 ms plus one round trip. A kill counts only once the agent's status names a new
pid. The rows are interleaved: one floor sample right before each local kill, one peer
restart right before each ray kill, so load from elsewhere on the machine (2 shared
cores here) falls on both alike; after the table, each chia row's median paired
difference to its neighbour says what chia adds. The verdict holds each launcher's
slowest recovery against its target.

Usage: python benchmarks/recovery.py [--local-kills 5] [--ray-kills 3]
       (--ray-kills 0 skips the cluster, its chia row and the peer row)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from chia.exchange import ExchangeSettings
from chia.processes import stop_process
from chia.testing import http_exchange
from chia.testing.campaigns import write_campaign_dir
from chia.testing.clusters import ClusterSandbox, cluster_sandbox
from chia.testing.ray_peer import RayPeerDriver
from chia.testing.recovery import cold_start, time_to_answer
from chia.testing.sites import Site, SiteRunner

#: The issue's targets (seconds from SIGKILL to an answered ping), per launcher.
TARGETS = {"local": 2.0, "ray": 5.0}
#: Generous bounds that only keep a broken run from hanging (never a measured limit).
HANG_S = 120.0
AGENTS = ("agent-a", "agent-b")
CLUSTER = (
    "cluster_name: @NAME@\n"
    "provider: {head_ip: 127.0.0.1, temp_root: @TEMP_ROOT@}\n"
    "available_node_types:\n"
    "  cpu: {resources: {CPU: 1}}\n"
)


@dataclass
class Row:
    path: str
    launcher: str
    samples: list[float] = field(default_factory=list)
    target: float | None = None
    #: The row measured alongside, one sample right before each of this row's.
    beside: Row | None = None

    @property
    def verdict(self) -> str:
        if self.target is None or not self.samples:
            return "-"
        return "ok" if max(self.samples) <= self.target else "OVER TARGET"


def status(runs: Path, run_id: str, agent: str) -> dict[str, Any]:
    path = runs / run_id / "s" / "status" / f"{agent}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):  # not written yet, or mid-replace
        return {}
    return data


def running(procs: list[subprocess.Popen[Any]]) -> bool:
    return all(proc.poll() is None for proc in procs)


def wait_for(condition: Any, what: str, site: Site) -> Any:
    deadline = time.monotonic() + HANG_S
    while not (value := condition()):
        if site.proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}; site output:\n{site.output}")
        time.sleep(0.05)
    return value


def write_campaign(root: Path) -> Path:
    """A counter game that never reaches its target: both agents stay busy."""
    a, b = AGENTS
    agents = [
        {"name": a, "role": "r", "mission": "m", "allowed_peers": [b]},
        {"name": b, "role": "r", "mission": "m", "allowed_peers": [a]},
    ]
    endless = 10**9
    limits = {"max_decisions": endless, "idle_timeout_s": 600}
    return write_campaign_dir(
        root, "recovery-bench", agents, policy={"kind": "counter", "target": endless}, limits=limits
    )


def kill_and_time(
    site: Site, runs: Path, run_id: str, agent: str, settings: ExchangeSettings
) -> float:
    """SIGKILL ``agent``'s host (or actor worker) mid-game; seconds until it answers again."""
    other = AGENTS[1 - AGENTS.index(agent)]
    turns = status(runs, run_id, other).get("decisions", 0)
    # Mid-game: both have taken turns, the peer some since the last kill (or start-up).
    before = wait_for(
        lambda: (
            (s := status(runs, run_id, agent)).get("decisions", 0) >= 10
            and status(runs, run_id, other).get("decisions", 0) >= turns + 5
            and s
        ),
        f"{agent} and {other} to take turns",
        site,
    )
    kill = partial(os.kill, before["pid"], signal.SIGKILL)
    try:
        seconds = asyncio.run(
            time_to_answer(settings, run_id, agent, kill, partial(running, [site.proc]))
        )
    except TimeoutError as exc:
        raise RuntimeError(f"{exc}; site output:\n{site.output}") from exc
    wait_for(
        lambda: status(runs, run_id, agent).get("pid") not in (None, before["pid"]),
        f"a new pid in {agent}'s status",
        site,
    )
    return seconds


def measure_chia(
    runner: SiteRunner,
    campaign: Path,
    settings: ExchangeSettings,
    kills: int,
    launcher: list[str],
    beside: Callable[[], object],
    env: dict[str, str] | None = None,
) -> list[float]:
    """``kills`` first restarts: fresh runs of the counter game, each agent killed once.

    ``beside`` runs right before each kill (one sample of the row measured alongside),
    so load from elsewhere on the machine falls on both rows alike.
    """
    assert settings.url is not None
    samples: list[float] = []
    while len(samples) < kills:
        run_id = f"rec-{uuid.uuid4().hex[:8]}"
        site = runner.start(
            *("--system", "local", "--campaign", str(campaign), "--run-id", run_id),
            *("--site", "s", "--agents", ",".join(AGENTS), *launcher),
            *("--exchange", "http", "--exchange-url", settings.url),
            name=run_id,
            env=env,
        )
        try:
            for agent in AGENTS[::-1][: kills - len(samples)]:
                beside()
                samples.append(kill_and_time(site, runner.runs_dir, run_id, agent, settings))
        finally:
            stop_process(site.proc, grace_s=30)  # SIGTERM: spawn-site stops what it started
            with contextlib.suppress(ProcessLookupError):  # and nothing of its group is left
                os.killpg(site.proc.pid, signal.SIGKILL)
    return samples


def measure_ray(
    box: ClusterSandbox, runner: SiteRunner, campaign: Path, settings: ExchangeSettings, kills: int
) -> list[Row]:
    """chia's ray launcher and Ray's own actor restart, on one ``chia up`` cluster."""
    path = box.write(CLUSTER)
    up = box.chia("up", str(path), "-y")
    if up.returncode != 0:
        raise RuntimeError(up.stdout + up.stderr)
    try:
        peer = RayPeerDriver(box.client_env())
        try:
            launcher = ["--launcher", "ray", "--ray-address", str(path)]
            env = {"CHIA_CLUSTERS_DIR": str(box.state_dir)}
            chia = measure_chia(runner, campaign, settings, kills, launcher, peer.restart_once, env)
        finally:
            peer.close()
        ray_peer = Row("peer: ray actor restart -> call", "ray", peer.samples)
        return [
            Row("chia: SIGKILL actor worker -> ping", "ray", chia, TARGETS["ray"], ray_peer),
            ray_peer,
        ]
    finally:
        down = box.chia("down", str(path))
        if down.returncode != 0 or box.processes():
            print(f"warning: chia down left {box.processes()}: {down.stderr}", file=sys.stderr)


def print_table(rows: list[Row]) -> None:
    header = f"{'path':<36} {'launcher':<8} {'runs':>4} {'p50 s':>6} {'max s':>6} {'target':>8}"
    print(f"{header}  verdict")
    print("-" * (len(header) + 13))
    for row in rows:
        target = f"<= {row.target:g} s" if row.target is not None else "-"
        p50, worst = statistics.median(row.samples), max(row.samples)
        print(
            f"{row.path:<36} {row.launcher:<8} {len(row.samples):>4} {p50:>6.2f} {worst:>6.2f} "
            f"{target:>8}  {row.verdict}"
        )
    verdicts = "; ".join(
        f"{row.launcher} max {max(row.samples):.2f} s vs <= {row.target:g} s: {row.verdict}"
        for row in rows
        if row.target is not None
    )
    print(f"\nverdict (slowest recovery against the target): {verdicts}")
    for row in rows:
        if row.beside is not None:
            # Paired: each kill's figure less the one measured right before it.
            pairs = zip(row.samples, row.beside.samples, strict=True)
            extra = statistics.median(ours - theirs for ours, theirs in pairs)
            print(
                f"{row.launcher}: {row.path} minus {row.beside.path.split(':')[0]} "
                f"(median of paired differences): {extra:+.2f} s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--local-kills", type=int, default=5, help="Also the floor's runs.")
    parser.add_argument("--ray-kills", type=int, default=3, help="0 skips the Ray rows.")
    args = parser.parse_args()
    if args.local_kills < 1 or args.ray_kills < 0:
        parser.error("--local-kills takes >= 1, --ray-kills >= 0")
    # Pings that timed out while the agent was down may still be answered once it is up;
    # Academy's warning about such late answers ("unexpected response") is not news here.
    logging.getLogger("academy").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="chia-recovery-") as tmp, http_exchange() as server:
        root = Path(tmp)
        campaign = write_campaign(root)
        settings = server.settings()
        runner = SiteRunner(root)
        floor = Row("floor: cold start -> ping", "local")
        rows = [floor]
        ray_failed = ""
        try:
            print("measuring local ...", flush=True)
            local = measure_chia(
                runner,
                campaign,
                settings,
                args.local_kills,
                ["--launcher", "local"],
                lambda: floor.samples.append(cold_start(settings, root / "floor.log")),
            )
            rows.append(Row("chia: SIGKILL host -> ping", "local", local, TARGETS["local"], floor))
            if args.ray_kills:
                print("measuring ray ...", flush=True)
                ray_failed = ray_rows(root, runner, campaign, settings, args.ray_kills, rows)
        finally:
            runner.stop_all()
    print("\nrecovery after SIGKILL (seconds), self-hosted HTTP exchange, first restarts")
    print_table(rows)
    if ray_failed:
        print(f"\nray: not measured: {ray_failed.splitlines()[0]} (details on stderr)")
        sys.exit(1)


def ray_rows(
    root: Path,
    runner: SiteRunner,
    campaign: Path,
    settings: ExchangeSettings,
    kills: int,
    rows: list[Row],
) -> str:
    """Add the Ray rows to ``rows``; return why they could not be measured, or ``""``.

    A cluster that does not come up on a loaded machine (``chia up`` gives up) must not
    cost the local rows already measured: they are printed all the same.
    """
    try:
        with cluster_sandbox(root / "ray", prefix="rec") as box:
            box.workdir.mkdir(parents=True, exist_ok=True)
            rows += measure_ray(box, runner, campaign, settings, kills)
    except (RuntimeError, TimeoutError, subprocess.SubprocessError) as exc:
        print(f"ray rows failed: {exc}", file=sys.stderr)
        return str(exc) or type(exc).__name__
    return ""


if __name__ == "__main__":
    main()
