"""Cluster start-up on this host: `chia up` vs `ray start` by hand, and spawn-site on Ray.

Prints, side by side in one run:
  by hand   - `ray start --head`, then one `ray start --address` per worker, one after the
              other, as an operator types them (same flags and free ports as chia uses);
  chia up   - `chia up -y` of head + N logical workers (workers start concurrently);
  chia down - stopping that cluster (workers first, then the head);
  spawn-site with 16 agents until every agent's peers answered: the local launcher (one
  process per agent) next to the ray launcher (one actor per agent on a `chia up` cluster
  of head + 2 workers), both on a real redis exchange.

Only processes under this benchmark's own temp root are ever stopped.

Usage: python benchmarks/cluster_up.py [--workers 1,2,4] [--agents 16]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chia.testing import redis_server
from chia.testing.campaigns import time_until_running, write_campaign_dir
from chia.testing.clusters import cluster_sandbox, processes_under

RAY = str(Path(sys.executable).parent / "ray")
CHIA = str(Path(sys.executable).parent / "chia")


def cluster_file(workers: int) -> str:
    return (
        "cluster_name: @NAME@\n"
        "provider: {head_ip: 127.0.0.1, temp_root: @TEMP_ROOT@}\n"
        "available_node_types:\n"
        f"  w: {{resources: {{CPU: 1, bench: 1}}, num_workers: {workers}}}\n"
    )


def by_hand(workers: int, root: Path) -> float:
    """Sequential `ray start` commands with chia's flags; the same temp-root isolation."""
    from chia.cluster.loading import parse_cluster
    from chia.cluster.nodes import head_launch, worker_launch
    from chia.cluster.plan import make_plan
    from chia.cluster.raytoken import node_env

    temp_root = f"/tmp/chia-bh-{os.getpid()}"
    text = cluster_file(workers).replace("@NAME@", "hand").replace("@TEMP_ROOT@", temp_root)
    config = parse_cluster(text)
    plan = make_plan(config)
    env = {**os.environ, **node_env(config), "RAY_AUTH_MODE": "disabled"}
    head = head_launch(config, plan.head, _free())
    address = f"127.0.0.1:{head.main[head.main.index('--port') + 1]}"
    nodes = [head] + [worker_launch(config, w, address) for w in plan.workers]
    started = time.perf_counter()
    try:
        for node in nodes:
            argv = [a for a in node.main if a != "--block"]
            subprocess.run(argv, env=env, check=True, capture_output=True)
        return time.perf_counter() - started
    finally:
        _kill_under(temp_root)


def _free() -> int:
    from chia.cluster.nodes import free_port

    return free_port()


def _kill_under(marker: str) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in processes_under(marker + "/"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        time.sleep(2 if sig == signal.SIGTERM else 0)


def chia_up_down(workers: int, root: Path) -> tuple[float, float]:
    with cluster_sandbox(root / f"up{workers}", prefix="bench") as box:
        box.workdir.mkdir(parents=True, exist_ok=True)
        path = box.write(cluster_file(workers))
        started = time.perf_counter()
        up = box.chia("up", str(path), "-y")
        up_s = time.perf_counter() - started
        if up.returncode != 0:
            raise RuntimeError(up.stdout + up.stderr)
        started = time.perf_counter()
        box.chia("down", str(path))
        down_s = time.perf_counter() - started
        if box.processes():
            raise RuntimeError("chia down left processes behind")
        return up_s, down_s


def write_campaign(root: Path, n: int) -> Path:
    names = [f"a-{i:02d}" for i in range(n)]
    agents = [
        {"name": name, "role": "r", "mission": "m", "allowed_peers": [names[(i + 1) % n]]}
        for i, name in enumerate(names)
    ]
    return write_campaign_dir(root, "ray-bench", agents)


def spawn_until_up(argv: list[str], runs: Path, run_id: str, n: int, env: dict[str, str]) -> float:
    return time_until_running([argv], runs / run_id, n, env=env)


def spawn_site_rows(root: Path, n: int) -> list[tuple[str, float]]:
    campaign = write_campaign(root, n)
    runs = root / "runs"
    agents = ",".join(f"a-{i:02d}" for i in range(n))
    rows = []
    with redis_server() as redis:
        base = [CHIA, "spawn-site", "--system", "local", "--site", "s", "--campaign"]
        base += [str(campaign), "--agents", agents, "--runs-dir", str(runs), "--no-bootstrap"]
        local = [*base, "--run-id", "loc", "--exchange", "redis"]
        local += ["--exchange-url", redis.url(1), "--launcher", "local"]
        rows.append(
            (
                f"spawn-site {n} agents, local launcher",
                spawn_until_up(local, runs, "loc", n, dict(os.environ)),
            )
        )
        with cluster_sandbox(root / "ray", prefix="bench") as box:
            box.workdir.mkdir(parents=True, exist_ok=True)
            path = box.write(cluster_file(2))
            up = box.chia("up", str(path), "-y")
            if up.returncode != 0:
                raise RuntimeError(up.stdout + up.stderr)
            try:
                ray = [*base, "--run-id", "ray", "--exchange", "redis"]
                ray += ["--exchange-url", redis.url(2), "--launcher", "ray"]
                ray += ["--ray-address", str(path)]
                rows.append(
                    (
                        f"spawn-site {n} agents, ray launcher",
                        spawn_until_up(ray, runs, "ray", n, box.env),
                    )
                )
            finally:
                box.chia("down", str(path))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--agents", type=int, default=16)
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="chia-cluster-bench-") as tmp:
        root = Path(tmp)
        hand = {n: by_hand(n, root) for n in counts}
        chia = {n: chia_up_down(n, root) for n in counts}
        rows = spawn_site_rows(root, args.agents)
    print("cluster start-up on this host, head + N logical workers (seconds)")
    print(f"{'path':<36}" + "".join(f"{'N=' + str(n):>8}" for n in counts))
    print(f"{'ray start by hand (sequential)':<36}" + "".join(f"{hand[n]:8.2f}" for n in counts))
    print(f"{'chia up -y':<36}" + "".join(f"{chia[n][0]:8.2f}" for n in counts))
    print(f"{'chia down':<36}" + "".join(f"{chia[n][1]:8.2f}" for n in counts))
    print()
    print(f"{'spawn-site to all peers up':<44} {'seconds':>8}")
    for label, seconds in rows:
        print(f"{label:<44} {seconds:8.2f}")


if __name__ == "__main__":
    main()
