"""Site start-up: 2 sites x N agents (local launcher), from launch to every peer answering.

Prints, side by side in one run:
  floor  - 2N bare Python processes that only import chia's host module (process + import
           cost, no exchange at all);
  chia   - two `chia spawn-site` processes on a self-hosted HTTP exchange (and on Redis):
           time until every agent's status reads RUNNING, i.e. all its peers answered pings;
           once with one process per agent, once with all of a site's agents in one
           process (--agents-per-process N).

  scale  - with --scale N: 2 sites x N agents on the push exchange, packed N/2 per process
           (default N=500), time until every agent answered its peers' pings.

Usage: python benchmarks/site_startup.py [--agents-per-site 16] [--topology pairs|mesh]
       [--scale 500]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chia.exchange.push.process import PushServer
from chia.exchange.server import ExchangeServer
from chia.testing import redis_server
from chia.testing.campaigns import time_until_running, write_campaign_dir


def write_campaign(root: Path, per_site: int, topology: str) -> Path:
    names = {site: [f"{site}-{i:02d}" for i in range(per_site)] for site in ("east", "west")}
    everyone = names["east"] + names["west"]
    agents = []
    for site, own in names.items():
        other = names["west" if site == "east" else "east"]
        for i, name in enumerate(own):
            if topology == "mesh":
                peers = [n for n in everyone if n != name]
            else:  # partner on the other site, neighbour on this one
                peers = [other[i], own[(i + 1) % per_site]] if per_site > 1 else [other[i]]
            agents.append(
                {"name": name, "role": "r", "mission": "m", "allowed_peers": peers, "site": site}
            )
    return write_campaign_dir(root, "startup-bench", agents)


def floor(count: int) -> float:
    started = time.perf_counter()
    procs = [
        subprocess.Popen([sys.executable, "-c", "import chia.site.host"]) for _ in range(count)
    ]
    for proc in procs:
        proc.wait()
    return time.perf_counter() - started


def chia_startup(
    campaign: Path, runs: Path, run_id: str, exchange: list[str], n: int, per_process: int = 1
) -> float:
    argvs = []
    for site in ("east", "west"):
        agents = ",".join(f"{site}-{i:02d}" for i in range(n))
        argv = [sys.executable, "-m", "chia", "spawn-site", "--system", "local", "--site", site]
        argv += ["--campaign", str(campaign), "--run-id", run_id, "--agents", agents]
        argv += [*exchange, "--runs-dir", str(runs), "--no-bootstrap"]
        argvs.append([*argv, "--agents-per-process", str(per_process)])
    return time_until_running(argvs, runs / run_id, 2 * n)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents-per-site", type=int, default=16)
    parser.add_argument("--topology", choices=["pairs", "mesh"], default="pairs")
    parser.add_argument(
        "--scale", type=int, default=0, metavar="N", help="Also time 2 x N agents on push."
    )
    args = parser.parse_args()
    n = args.agents_per_site
    with tempfile.TemporaryDirectory(prefix="chia-startup-") as tmp:
        root = Path(tmp)
        campaign = write_campaign(root, n, args.topology)
        rows = [(f"floor: import chia host x{2 * n}", floor(2 * n))]
        with ExchangeServer(workdir=root / "exchange") as server:
            http = ["--exchange", "http", "--exchange-url", server.url]
            rows.append(("chia: http, 1 agent/process", chia_startup(campaign, root, "h", http, n)))
            seconds = chia_startup(campaign, root, "h2", http, n, per_process=n)
            rows.append((f"chia: http, {n} agents/process", seconds))
        with redis_server() as redis:
            rd = ["--exchange", "redis", "--exchange-url", redis.url(0)]
            rows.append(("chia: redis, 1 agent/process", chia_startup(campaign, root, "r", rd, n)))
            seconds = chia_startup(campaign, root, "r2", rd, n, per_process=n)
            rows.append((f"chia: redis, {n} agents/process", seconds))
        if args.scale:
            big = write_campaign(root / "scale", args.scale, "pairs")
            per = max(1, args.scale // 2)
            with PushServer(workdir=root / "push") as push:
                ws = ["--exchange", "push", "--exchange-url", push.url]
                seconds = chia_startup(big, root, "p-scale", ws, args.scale, per_process=per)
            rows.append((f"scale: push, 2 x {args.scale}, {per}/process", seconds))
    print(f"site start-up, 2 sites x {n} agents ({args.topology} peers), local launcher")
    print(f"{'path':<40} {'seconds':>8}")
    for label, seconds in rows:
        print(f"{label:<40} {seconds:8.2f}")


if __name__ == "__main__":
    main()
