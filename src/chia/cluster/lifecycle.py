"""``chia up`` / ``chia up --add`` / ``chia down``: raise, grow and stop a cluster.

Normal path of ``up``: create cloud machines (if any) → place workers → print the plan →
confirm → per machine: initialization commands and file mounts → head node (wait until
it joined) → reverse tunnels for firewalled machines → every worker at once (wait until
each joined) → state file saved. ``--add`` keeps the head and every live worker, and
starts only workers that are missing (new in the file, or whose node died with its
machine). ``down`` stops workers first, then the head, tunnels and cloud machines.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from chia.cluster.config import AllocationStrategy, ClusterConfig, Machine
from chia.cluster.executor import executor_for
from chia.cluster.nodes import (
    NodeLaunch,
    alive_script,
    head_launch,
    stop_script,
    worker_launch,
)
from chia.cluster.plan import ClusterPlan, make_plan
from chia.cluster.startup import start_nodes
from chia.cluster.state import ClusterState, NodeRecord
from chia.errors import ChiaError, ChiaUsageError
from chia.netaddr import free_port

__all__ = ["UpResult", "cluster_down", "cluster_up", "render_plan"]

Say = Callable[[str], None]


@dataclass
class UpResult:
    """What ``up`` did: the plan, the nodes it started, and the saved state (None: dry run)."""

    plan: ClusterPlan
    started: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    state: ClusterState | None = None


def _how(machine: Machine, config: ClusterConfig) -> str:
    if not machine.remote:
        return "local"
    argv = executor_for(machine, config.auth).argv("")[:-1]
    return shlex.join(argv) + (", reverse tunnel" if machine.tunnel else "")


def render_plan(plan: ClusterPlan, launches: Sequence[NodeLaunch], kept: Sequence[str] = ()) -> str:
    """Every command per machine, as ``up`` will run it."""
    config = plan.config
    lines = [
        f"cluster {config.cluster_name}: head on {plan.head.label}, "
        f"{len(plan.workers)} logical worker(s), strategy {plan.strategy}"
    ]
    by_machine = {
        m.label: [n for n in launches if n.machine.label == m.label] for m in plan.machines
    }
    for machine in plan.machines:
        nodes = by_machine[machine.label]
        placed = [w.name for w in plan.on(machine)]
        if not nodes and not placed and machine is not plan.head:
            continue
        lines.append(f"machine {machine.label} ({machine.ip}; {_how(machine, config)}):")
        for command in config.initialization_commands:
            lines.append(f"  [init] {command}")
        for remote, local in config.file_mounts.items():
            argv = executor_for(machine, config.auth).copy_argv(local, remote)
            lines.append(f"  [copy] {shlex.join(argv)}")
        for node in nodes:
            for command in node.setup:
                lines.append(f"  [{node.name}] setup: {command}")
            env = [f"{k}={v}" for k, v in node.env.items()]
            lines.append(f"  [{node.name}] {shlex.join([*env, *node.main])}")
        for name in placed:
            if name in kept:
                lines.append(f"  [{name}] running (kept)")
    return "\n".join(lines)


def _alive(record: NodeRecord, config: ClusterConfig) -> bool:
    result = executor_for(record.machine, config.auth).run(
        alive_script(record.temp_dir, record.pid), timeout_s=30
    )
    return result.stdout.strip() == "ALIVE"


def _stop_node(record: NodeRecord, config: ClusterConfig, grace_s: float) -> str | None:
    """Stop one node; return why it could not be stopped, or None."""
    script = stop_script(record.pid, record.temp_dir, grace_s, record.stop_extra)
    try:
        result = executor_for(record.machine, config.auth).run(script, timeout_s=grace_s + 60)
    except subprocess.TimeoutExpired:
        return f"{record.name} on {record.machine.label}: stop timed out"
    if "STOPPED" not in result.stdout:
        return f"{record.name} on {record.machine.label}: {result.stderr.strip()[-300:]}"
    return None


def cluster_up(
    config: ClusterConfig,
    config_path: Path,
    *,
    add: bool = False,
    dry_run: bool = False,
    strategy: AllocationStrategy | None = None,
    confirm: Callable[[str], bool] = lambda _text: True,
    say: Say = print,
    timeout_s: float = 180.0,
) -> UpResult:
    """Raise the cluster (or add its missing workers) and save its state.

    Args:
        config: The validated cluster file.
        config_path: Its path (recorded so proxy commands can find the cluster).
        add: Keep the live head and workers; start only missing workers.
        dry_run: Print the plan and start nothing.
        strategy: Overrides the file's ``allocation``.
        confirm: Asked with the plan before anything starts; False aborts.
        say: Where progress lines go.
        timeout_s: How long each node may take to join.

    Raises:
        ChiaUsageError: If the cluster is already up (without ``--add``), not up (with
            it), the plan is impossible, or the operator declined.
        ChiaError: If a node failed to start (what started is stopped again).
    """
    state = ClusterState.load(config.cluster_name)
    if state is not None and not add and not dry_run:
        raise ChiaUsageError(
            f"cluster {config.cluster_name!r} is already up (head {state.head_address}); "
            "use `chia up --add` to grow it or `chia down` first"
        )
    if add and state is None:
        raise ChiaUsageError(f"cluster {config.cluster_name!r} is not up: run `chia up` first")
    from chia.cluster.cloud import cloud_machines, planned_cloud_machines, terminate_cloud

    if state is not None and add:
        extra = [instance.machine for instance in state.cloud]
    else:
        extra = planned_cloud_machines(config)
    kept = _live_workers(state, config) if add and state is not None else {}
    plan = make_plan(config, extra, strategy, existing=kept)
    if add and state is not None:
        address = state.head_address
        launches: list[NodeLaunch] = []
    else:
        address = f"{plan.head.ip}:{config.provider.head_port or free_port()}"
        launches = [head_launch(config, plan.head, int(address.rsplit(":", 1)[1]))]
    launches += [worker_launch(config, w, address) for w in plan.workers if w.name not in kept]
    text = render_plan(plan, launches, list(kept))
    say(text)
    result = UpResult(plan=plan, kept=sorted(kept))
    if dry_run:
        return result
    if not confirm(text):
        raise ChiaUsageError("aborted: nothing was started")
    if state is None:
        created = cloud_machines(config, say)
        if created:  # real addresses replace the placeholders: place again
            plan = make_plan(config, [c.machine for c in created], strategy)
            launches = [head_launch(config, plan.head, int(address.rsplit(":", 1)[1]))]
            launches += [worker_launch(config, w, address) for w in plan.workers]
            result.plan = plan
        state = ClusterState(
            cluster_name=config.cluster_name,
            config_path=str(config_path.resolve()),
            head_address=address,
            cloud=created,
        )
        state.save()
    for name in [n.name for n in launches]:
        state.nodes.pop(name, None)
    try:
        result.started = start_nodes(config, launches, state, say, timeout_s)
    except BaseException:
        if not state.nodes and state.cloud:  # nothing runs: give the machines back
            say(f"terminating {len(state.cloud)} cloud machine(s) after the failure")
            terminate_cloud(config, state.cloud)
        raise
    result.state = state
    return result


def _live_workers(state: ClusterState, config: ClusterConfig) -> dict[str, str]:
    records = [r for r in state.nodes.values() if r.node_type is not None]
    with ThreadPoolExecutor(max_workers=8) as pool:
        alive = list(pool.map(lambda r: _alive(r, config), records))
    return {r.name: r.machine.label for r, ok in zip(records, alive, strict=True) if ok}


def cluster_down(config: ClusterConfig, say: Say = print, grace_s: float = 20.0) -> ClusterState:
    """Stop this cluster's workers, then its head, tunnels and cloud machines.

    Raises:
        ChiaUsageError: If the cluster is not up.
    """
    from chia.cluster.cloud import terminate_cloud
    from chia.cluster.tunnels import close_tunnel

    state = ClusterState.load(config.cluster_name)
    if state is None:
        raise ChiaUsageError(f"cluster {config.cluster_name!r} is not up")
    workers = [r for r in state.nodes.values() if r.node_type is not None]
    heads = [r for r in state.nodes.values() if r.node_type is None]
    for group in (workers, heads):
        if group:
            say(f"stopping {', '.join(r.name for r in group)}")
        with ThreadPoolExecutor(max_workers=8) as pool:
            failures = [f for f in pool.map(lambda r: _stop_node(r, config, grace_s), group) if f]
        if failures:  # keep the state: the operator can fix ssh and run `down` again
            raise ChiaError("could not stop: " + "; ".join(failures))
    for tunnel in state.tunnels:
        close_tunnel(tunnel)
    if state.cloud:
        say(f"terminating {len(state.cloud)} cloud machine(s)")
        terminate_cloud(config, state.cloud)
    state.forget()
    (state.path_for(config.cluster_name).with_suffix(".token")).unlink(missing_ok=True)
    say(f"cluster {config.cluster_name} is down")
    return state
