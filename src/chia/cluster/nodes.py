"""The commands that start, probe and stop one Ray node (head or logical worker).

Each node is one ``ray start --block`` in its own session (``setsid``) with its own
``--temp-dir`` and free ports, so several nodes share a machine and ``chia down`` can stop
exactly this cluster's processes: SIGTERM to the node's leader (Ray drains and stops its
children), then SIGKILL to whatever is left of its process group. Never ``ray stop``,
which would stop every Ray instance on the machine.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from chia.cluster.config import ClusterConfig, Machine
from chia.cluster.containers import container_name, run_argv, stop_argv
from chia.cluster.plan import WorkerPlacement
from chia.cluster.raytoken import node_env
from chia.netaddr import free_port

__all__ = [
    "READY_MARK",
    "NodeLaunch",
    "alive_script",
    "head_launch",
    "ready_script",
    "resource_args",
    "stop_script",
    "worker_launch",
]

#: What ``ray start`` prints once the node has joined.
READY_MARK = "Ray runtime started"
_BUILTIN = {"CPU": "--num-cpus", "GPU": "--num-gpus", "memory": "--memory"}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def resource_args(resources: Mapping[str, float]) -> list[str]:
    """``--num-cpus/--num-gpus/--memory`` plus ``--resources '{custom}'``."""
    argv: list[str] = []
    for key, flag in _BUILTIN.items():
        if key in resources:
            argv += [flag, _num(resources[key])]
    custom = {
        k: int(v) if float(v).is_integer() else v for k, v in resources.items() if k not in _BUILTIN
    }
    if custom:
        argv += ["--resources", json.dumps(custom, separators=(",", ":"))]
    return argv


def ray_executable(config: ClusterConfig, machine: Machine) -> str:
    """The machine's ray: its own setting, the provider's, else the one beside our Python."""
    return (
        machine.ray_command
        or config.provider.ray_command
        or str(Path(sys.executable).parent / "ray")
    )


#: Ports Ray gives fixed defaults, so two nodes on one machine would collide: each node
#: gets free ones (and new ones when it is started again).
_AGENT_PORT_FLAGS = (
    "--dashboard-agent-listen-port",
    "--dashboard-agent-grpc-port",
    "--runtime-env-agent-port",
    "--metrics-export-port",
)


def _agent_ports() -> list[str]:
    return [arg for flag in _AGENT_PORT_FLAGS for arg in (flag, str(free_port()))]


@dataclass(frozen=True)
class NodeLaunch:
    """Everything needed to start one Ray node on its machine."""

    name: str
    machine: Machine
    temp_dir: str
    main: list[str]
    setup: list[str] = field(default_factory=list)
    stop_extra: list[str] | None = None
    container: str | None = None
    node_type: str | None = None  # None: the head
    env: dict[str, str] = field(default_factory=dict)

    def start_script(self) -> str:
        """Shell script that runs setup, starts the node detached, and prints its pid."""
        temp = shlex.quote(self.temp_dir)
        lines = ["set -e", f"mkdir -p {temp}", f"cd {temp}"]
        if self.setup:
            setup = " && ".join(self.setup)
            lines.append(f"( {setup} ) >> {temp}/setup.log 2>&1")
        env = [f"{k}={v}" for k, v in self.env.items()]
        command = shlex.join(["env", *env, *self.main] if env else self.main)
        lines.append(f"setsid nohup {command} > {temp}/node.log 2>&1 < /dev/null &")
        lines.append("echo $!")
        return "\n".join(lines)

    def with_fresh_ports(self) -> NodeLaunch:
        """The same launch with new agent ports (a port may have been taken meanwhile)."""
        main = list(self.main)
        for i, arg in enumerate(main[:-1]):
            if arg in _AGENT_PORT_FLAGS:
                main[i + 1] = str(free_port())
        return replace(self, main=main)


def head_launch(config: ClusterConfig, machine: Machine, gcs_port: int) -> NodeLaunch:
    """The head node: GCS on ``gcs_port``, dashboard and client server on free ports."""
    temp_dir = f"{config.provider.temp_root}/{config.cluster_name}/_head"
    main = [
        ray_executable(config, machine),
        "start",
        "--head",
        "--block",
        "--node-ip-address",
        machine.ip,
        "--port",
        str(gcs_port),
        "--temp-dir",
        temp_dir,
        *resource_args(config.head_resources),
        "--include-dashboard",
        "true",
        "--dashboard-host",
        machine.ip,
        "--dashboard-port",
        str(free_port()),
        "--ray-client-server-port",
        str(free_port()),
        *_agent_ports(),
        "--disable-usage-stats",
        *config.head_ray_args,
    ]
    setup = [*config.setup_commands, *config.head_setup_commands]
    return NodeLaunch(
        name="head",
        machine=machine,
        temp_dir=temp_dir,
        main=main,
        setup=setup,
        env=node_env(config),
    )


def worker_launch(
    config: ClusterConfig, placement: WorkerPlacement, gcs_address: str
) -> NodeLaunch:
    """A logical worker: ``ray start --address gcs_address`` with its type's resources."""
    machine = placement.machine
    temp_dir = f"{config.provider.temp_root}/{config.cluster_name}/{placement.name}"
    spec = placement.spec
    command = [
        spec.container.ray_command if spec.container else ray_executable(config, machine),
        "start",
        "--block",
        "--address",
        gcs_address,
        "--node-ip-address",
        machine.ip,
        "--temp-dir",
        temp_dir,
        *resource_args({"CPU": spec.cpus, **spec.resources}),
        *_agent_ports(),
        "--disable-usage-stats",
        *config.worker_ray_args,
    ]
    setup = [*config.setup_commands, *config.worker_setup_commands, *spec.setup_commands]
    if spec.container is None:
        return NodeLaunch(
            placement.name,
            machine,
            temp_dir,
            command,
            setup,
            node_type=placement.node_type,
            env=node_env(config),
        )
    name = container_name(config.cluster_name, placement.name)
    env = {"CHIA_CLUSTER": config.cluster_name, "CHIA_WORKER": placement.name}
    node_dir = f"{config.provider.temp_root}/{config.cluster_name}"
    main = run_argv(
        spec.container, name, command, setup, {**env, **node_env(config)}, {node_dir: node_dir}
    )
    return NodeLaunch(
        placement.name,
        machine,
        temp_dir,
        main,
        setup=[],
        stop_extra=stop_argv(spec.container, name),
        container=name,
        node_type=placement.node_type,
    )


def _runs_node(pid: int, temp_dir: str) -> str:
    """Shell function ``runs_node``: true while ``pid`` is this node's live process.

    A zombie (exited, waiting for a slow reaper; ``kill -0`` still finds it) and a reused
    pid (a command line without the temp dir) do not count. An empty command line with a
    live state does: a process shows one for an instant in the middle of each exec, and
    a node goes through several (setsid, nohup, env, python) as it starts.
    """
    return (
        f"runs_node() {{ t={shlex.quote(temp_dir)}; "
        f"s=$(awk '/^State:/ {{print $2}}' /proc/{pid}/status 2>/dev/null); "
        'case "$s" in ""|Z|X) return 1;; esac; '
        f"c=$(tr -d '\\0' 2>/dev/null < /proc/{pid}/cmdline); "
        'case "$c" in ""|*"$t"*) return 0;; *) return 1;; esac; }'
    )


def ready_script(temp_dir: str, pid: int) -> str:
    """Prints READY once the node joined, WAIT while starting, DEAD (and its log) if gone."""
    log = shlex.quote(f"{temp_dir}/node.log")
    return (
        f"{_runs_node(pid, temp_dir)}\n"
        f"if grep -q {shlex.quote(READY_MARK)} {log} 2>/dev/null; then echo READY; "
        "elif runs_node; then echo WAIT; "
        f"else echo DEAD; tail -n 15 {log} 2>/dev/null; fi"
    )


def alive_script(temp_dir: str, pid: int) -> str:
    """Prints ALIVE if ``pid`` still runs this node, else GONE."""
    return f"{_runs_node(pid, temp_dir)}\nif runs_node; then echo ALIVE; else echo GONE; fi"


def stop_script(
    pid: int, temp_dir: str, grace_s: float = 20.0, extra: list[str] | None = None
) -> str:
    """SIGTERM the node's leader, wait ``grace_s``, then SIGKILL its whole process group."""
    ticks = max(1, int(grace_s / 0.1))
    lines = []
    if extra:
        lines.append(f"{shlex.join(extra)} >/dev/null 2>&1 || true")
    lines += [
        _runs_node(pid, temp_dir),
        "if runs_node; then",
        f"  kill -TERM {pid} 2>/dev/null || true; i=0",
        f"  while runs_node && [ $i -lt {ticks} ]; do sleep 0.1; i=$((i+1)); done",
        # The whole group, which outlives an exited leader. No `--` before it: dash's
        # kill (sh on Debian) rejects that.
        f"  kill -KILL -{pid} 2>/dev/null || true",
        # SIGKILL is asynchronous: return only once the leader is gone.
        "  i=0; while runs_node && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done",
        "fi",
        # Leftovers whose leader already died: Ray processes of this node's session dir,
        # killed until none has shown up for half a second (a process forked just before
        # the kill names the session dir only once it execs). The pattern is split in this
        # text so that no shell or ssh client carrying this script (they all show it in
        # their command lines) matches it, and grep reads it from a file so that grep does
        # not match itself.
        f'pattern={shlex.quote(temp_dir + "/sess")}"ion_"',
        'patterns=$(mktemp); printf "%s\\n" "$pattern" > "$patterns"',
        "i=0; quiet=0; while [ $i -lt 100 ] && [ $quiet -lt 5 ]; do",
        '  left=$(grep -lsF -f "$patterns" /proc/[0-9]*/cmdline | cut -d/ -f3 | grep -vx "$$")',
        '  if [ -z "$left" ]; then quiet=$((quiet+1)); else quiet=0; fi',
        '  for p in $left; do kill -KILL "$p" 2>/dev/null; done',
        "  sleep 0.1; i=$((i+1))",
        "done",
        'rm -f "$patterns"',
        "echo STOPPED",
    ]
    return "\n".join(lines)
