"""Start planned Ray nodes on their machines and wait until each has joined."""

from __future__ import annotations

import dataclasses
import subprocess
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from chia.cluster.config import ClusterConfig, Machine
from chia.cluster.executor import executor_for
from chia.cluster.nodes import NodeLaunch, ready_script, stop_script
from chia.cluster.raytoken import client_env, install_script, local_token, token_path
from chia.cluster.state import ClusterState, NodeRecord, clusters_dir
from chia.errors import ChiaError

__all__ = ["JOIN_RETRIES", "prepare_machines", "start_nodes", "start_worker"]

Say = Callable[[str], None]

#: How often a worker is started again after Ray gave up registering it with the head.
JOIN_RETRIES = 2
#: What ``ray start`` prints when its raylet did not register within Ray's fixed 30 s
#: (a busy head: many workers joining at once, or a machine short of cores).
_RAY_START_TIMEOUT = "timed out during startup"


class _StartTimedOut(ChiaError):
    """Ray gave up waiting for the node to register with the head; worth another try."""


def _check(machine: Machine, what: str, returncode: int, output: str) -> None:
    if returncode != 0:
        raise ChiaError(f"{machine.label}: {what} failed (exit {returncode}): {output.strip()}")


def _install_token(config: ClusterConfig, state: ClusterState) -> str | None:
    """Resolve the cluster token and keep a local copy for drivers (mode 0600)."""
    local_copy = clusters_dir() / f"{config.cluster_name}.token"
    token = local_token(config, local_copy)
    if token is not None and not local_copy.is_file():
        local_copy.parent.mkdir(parents=True, exist_ok=True)
        local_copy.touch(mode=0o600)
        local_copy.write_text(token, encoding="utf-8")
    state.client_env = client_env(
        config, state.head_address, local_copy if token is not None else None
    )
    return token


def prepare_machines(
    config: ClusterConfig, machines: Sequence[Machine], say: Say, token: str | None = None
) -> None:
    """Install the token, run initialization commands and copy file mounts, per machine."""
    for machine in machines:
        executor = executor_for(machine, config.auth)
        if token is not None:
            result = executor.run(install_script(token_path(config)), stdin=token)
            _check(machine, "installing the Ray token", result.returncode, result.stderr)
        for command in config.initialization_commands:
            result = executor.run(command)
            _check(machine, f"initialization command {command!r}", result.returncode, result.stderr)
        for remote, local in config.file_mounts.items():
            copy = subprocess.run(
                executor.copy_argv(local, remote), capture_output=True, text=True, check=False
            )
            _check(machine, f"file mount {local} -> {remote}", copy.returncode, copy.stderr)
        if config.initialization_commands or config.file_mounts:
            say(f"{machine.label}: prepared")


def _launch(config: ClusterConfig, node: NodeLaunch) -> NodeRecord:
    result = executor_for(node.machine, config.auth).run(node.start_script())
    pid_text = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if result.returncode != 0 or not pid_text.isdigit():
        raise ChiaError(
            f"{node.name} on {node.machine.label}: could not start (exit {result.returncode}): "
            f"{(result.stderr or result.stdout).strip()[-800:]}"
        )
    return NodeRecord(
        name=node.name,
        node_type=node.node_type,
        machine=node.machine,
        pid=int(pid_text),
        temp_dir=node.temp_dir,
        container=node.container,
        stop_extra=node.stop_extra,
    )


def _wait_ready(config: ClusterConfig, record: NodeRecord, timeout_s: float) -> None:
    executor = executor_for(record.machine, config.auth)
    deadline = time.monotonic() + timeout_s
    while True:
        result = executor.run(ready_script(record.temp_dir, record.pid), timeout_s=30)
        word, _, rest = result.stdout.partition("\n")
        if word.strip() == "READY":
            return
        if word.strip() == "DEAD":
            error = _StartTimedOut if _RAY_START_TIMEOUT in rest else ChiaError
            raise error(f"{record.name} on {record.machine.label} exited:\n{rest.strip()}")
        if time.monotonic() > deadline:
            raise ChiaError(
                f"{record.name} on {record.machine.label} did not join in "
                f"{timeout_s:g}s; see {record.temp_dir}/node.log there"
            )
        time.sleep(0.25)


def start_worker(
    config: ClusterConfig, node: NodeLaunch, timeout_s: float, say: Say, started: list[NodeRecord]
) -> NodeRecord:
    """Launch a worker and wait until it joins; start it again if Ray timed out registering.

    Each new attempt gets new agent ports: the likeliest cause of a registration timeout
    on a quiet machine is a port another process took between choosing and binding it.

    Args:
        config: The cluster.
        node: How to launch the worker.
        timeout_s: How long each attempt may take to join.
        say: Progress lines.
        started: Every record launched so far; each launch here is added (so that a
            failure elsewhere stops it).

    Returns:
        The record of the attempt that joined.

    Raises:
        ChiaError: If the worker could not start, exited for another reason, never joined
            in time, or timed out registering ``JOIN_RETRIES + 1`` times.
    """
    attempt = 0
    while True:
        record = _launch(config, node)
        started.append(record)
        try:
            _wait_ready(config, record, timeout_s)
            return record
        except _StartTimedOut:
            attempt += 1
            if attempt > JOIN_RETRIES:
                raise
            say(
                f"{node.name} on {node.machine.label}: Ray timed out registering it with the "
                f"head (busy head or machine); starting it again ({attempt}/{JOIN_RETRIES})"
            )
            executor_for(record.machine, config.auth).run(
                stop_script(record.pid, record.temp_dir, 1.0, record.stop_extra)
            )
            node = node.with_fresh_ports()


def _through_tunnels(
    config: ClusterConfig, launches: list[NodeLaunch], state: ClusterState, say: Say
) -> list[NodeLaunch]:
    """Point workers on firewalled machines at their machine's end of a reverse tunnel."""
    from chia.cluster.tunnels import local_end, open_tunnel

    rewritten = []
    for node in launches:
        if not node.machine.tunnel or node.node_type is None:
            rewritten.append(node)
            continue
        tunnel = next((t for t in state.tunnels if t.machine == node.machine.label), None)
        if tunnel is None:
            log = clusters_dir() / f"{config.cluster_name}.tunnel-{node.machine.label}.log"
            tunnel = open_tunnel(node.machine, config.auth, state.head_address, log)
            state.tunnels.append(tunnel)
            state.save()
            say(f"{node.machine.label}: reverse tunnel {local_end(tunnel)} -> head")
        local = f"{tunnel.bind_host}:{tunnel.remote_port}"
        main = [arg.replace(state.head_address, local) for arg in node.main]
        rewritten.append(dataclasses.replace(node, main=main))
    return rewritten


def start_nodes(
    config: ClusterConfig,
    launches: list[NodeLaunch],
    state: ClusterState,
    say: Say,
    timeout_s: float,
) -> list[str]:
    """Start the head (if planned) then every worker; record each in ``state``.

    Returns:
        The names of the nodes started, each once (however many attempts it took).

    Raises:
        ChiaError: If a node did not start or join; nodes started here are stopped again.
    """
    machines = {n.machine.label: n.machine for n in launches}
    prepare_machines(config, list(machines.values()), say, _install_token(config, state))
    started: list[NodeRecord] = []
    try:
        heads = [n for n in launches if n.node_type is None]
        for node in heads:
            record = _launch(config, node)
            started.append(record)
            _wait_ready(config, record, timeout_s)
            state.nodes[record.name] = record
            state.dashboard_url = _dashboard_url(node)
            state.save()
            say(f"head up on {node.machine.label}: ray address {state.head_address}")
        workers = _through_tunnels(config, [n for n in launches if n not in heads], state, say)
        with ThreadPoolExecutor(max_workers=max(1, min(16, len(workers)))) as pool:
            records = list(
                pool.map(lambda node: start_worker(config, node, timeout_s, say, started), workers)
            )
        for record in records:
            state.nodes[record.name] = record
            say(f"worker {record.name} up on {record.machine.label}")
        state.save()
    except BaseException:
        for record in reversed(started):
            executor_for(record.machine, config.auth).run(
                stop_script(record.pid, record.temp_dir, 5.0, record.stop_extra)
            )
            state.nodes.pop(record.name, None)
        if not state.nodes:
            state.forget()
        else:
            state.save()
        raise
    # A worker started again after Ray timed out registering it is still one node.
    return list(dict.fromkeys(r.name for r in started))


def _dashboard_url(node: NodeLaunch) -> str | None:
    if "--dashboard-port" not in node.main:
        return None
    port = node.main[node.main.index("--dashboard-port") + 1]
    return f"http://{node.machine.ip}:{port}"
