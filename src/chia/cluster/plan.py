"""Map logical workers onto physical machines with a selectable allocation strategy.

Strategies (``allocation`` in the file, ``--strategy`` on the command line):

* ``least-loaded``: each worker goes to the compatible machine with the lowest load
  (CPUs placed / its ``cpus``, or CPUs placed when the capacity is unknown).
* ``pack``: fill the first compatible machine up to its ``cpus``, then the next.
* ``spread``: the compatible machine with the fewest workers so far (round robin).

A machine's ``cpus`` is a hard cap for every strategy. Workers already running (``--add``)
keep their machine and count towards its load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from chia.cluster.config import AllocationStrategy, ClusterConfig, Machine, NodeType
from chia.errors import ChiaUsageError

__all__ = ["ClusterPlan", "WorkerPlacement", "allocate", "cluster_machines", "make_plan"]


@dataclass(frozen=True)
class WorkerPlacement:
    """One logical worker and the machine it runs on."""

    name: str
    node_type: str
    spec: NodeType
    machine: Machine


@dataclass(frozen=True)
class ClusterPlan:
    """The head machine, every machine, and where each logical worker goes."""

    config: ClusterConfig
    head: Machine
    machines: list[Machine]
    workers: list[WorkerPlacement] = field(default_factory=list)
    strategy: AllocationStrategy = "least-loaded"

    def on(self, machine: Machine) -> list[WorkerPlacement]:
        """The workers placed on ``machine``."""
        return [w for w in self.workers if w.machine.label == machine.label]

    def worker(self, name: str) -> WorkerPlacement:
        """The placement of worker ``name``."""
        for placement in self.workers:
            if placement.name == name:
                return placement
        raise KeyError(name)


def _looks_like_address(selector: str) -> bool:
    return (
        selector == "localhost"
        or all(part.isdigit() for part in selector.split("."))
        or (":" in selector)
    )


def cluster_machines(config: ClusterConfig, extra: Sequence[Machine] = ()) -> list[Machine]:
    """Every machine: the head first, the listed ones, cloud ones, and bare ips in selectors.

    Args:
        config: The cluster file.
        extra: Machines created for this cluster (cloud instances).
    """
    listed = [*config.provider.machines, *extra]
    same_ip = [m for m in listed if m.ip == config.provider.head_ip]
    head = next((m for m in same_ip if not m.ssh), same_ip[0] if same_ip else None)
    machines = [head or Machine(ip=config.provider.head_ip)]
    machines += [m for m in listed if m is not head]
    for spec in config.available_node_types.values():
        for selector in spec.compatible_ips or []:
            known = any(m.matches(selector) for m in machines)
            if not known and _looks_like_address(selector):
                machines.append(Machine(ip=selector))
    return machines


def _compatible(spec: NodeType, machine: Machine) -> bool:
    if spec.compatible_ips is not None and not any(machine.matches(s) for s in spec.compatible_ips):
        return False
    return all(machine.resources.get(k, 0) >= v for k, v in spec.requires.items())


class _Loads:
    def __init__(self, machines: Sequence[Machine], head: Machine, head_cpus: float) -> None:
        self.cpus = {m.label: 0.0 for m in machines}
        self.count = {m.label: 0 for m in machines}
        self.cpus[head.label] += head_cpus

    def add(self, machine: Machine, cpus: float) -> None:
        self.cpus[machine.label] += cpus
        self.count[machine.label] += 1

    def fits(self, machine: Machine, cpus: float) -> bool:
        return machine.cpus is None or self.cpus[machine.label] + cpus <= machine.cpus + 1e-9

    def ratio(self, machine: Machine) -> float:
        used = self.cpus[machine.label]
        return used / machine.cpus if machine.cpus else used


def _choose(
    strategy: AllocationStrategy, candidates: list[Machine], loads: _Loads, cpus: float
) -> Machine | None:
    fitting = [m for m in candidates if loads.fits(m, cpus)]
    if not fitting:
        return None
    if strategy == "pack":
        return fitting[0]
    if strategy == "spread":
        return min(fitting, key=lambda m: loads.count[m.label])
    return min(fitting, key=loads.ratio)


def allocate(
    config: ClusterConfig,
    machines: Sequence[Machine],
    strategy: AllocationStrategy | None = None,
    existing: Mapping[str, str] | None = None,
) -> list[WorkerPlacement]:
    """Place every logical worker of ``config`` on a machine.

    Args:
        config: The cluster file.
        machines: Candidate machines, the head first.
        strategy: Overrides ``config.allocation``.
        existing: ``{worker name: machine label}`` of workers that keep their machine.

    Raises:
        ChiaUsageError: If a worker fits on no compatible machine (the message names it).
    """
    chosen = strategy or config.allocation
    by_label = {m.label: m for m in machines}
    loads = _Loads(machines, machines[0], float(config.head_resources.get("CPU", 0)))
    wanted = [
        (f"{type_name}-{i}", type_name, spec)
        for type_name, spec in config.available_node_types.items()
        for i in range(1, spec.num_workers + 1)
    ]
    placed: dict[str, WorkerPlacement] = {}
    for name, type_name, spec in wanted:
        label = (existing or {}).get(name)
        if label in by_label and _compatible(spec, by_label[label]):
            machine = by_label[label]
            loads.add(machine, spec.cpus)
            placed[name] = WorkerPlacement(name, type_name, spec, machine)
    for name, type_name, spec in wanted:
        if name in placed:
            continue
        candidates = [m for m in machines if _compatible(spec, m)]
        if not candidates:
            raise ChiaUsageError(
                f"node type {type_name!r}: no machine matches compatible_ips "
                f"{spec.compatible_ips} and requires {spec.requires}"
            )
        target = _choose(chosen, candidates, loads, spec.cpus)
        if target is None:
            raise ChiaUsageError(
                f"worker {name!r}: no capacity left on {[m.label for m in candidates]} "
                f"for {spec.cpus:g} CPU"
            )
        loads.add(target, spec.cpus)
        placed[name] = WorkerPlacement(name, type_name, spec, target)
    return [placed[name] for name, _, _ in wanted]


def make_plan(
    config: ClusterConfig,
    extra_machines: Sequence[Machine] = (),
    strategy: AllocationStrategy | None = None,
    existing: Mapping[str, str] | None = None,
) -> ClusterPlan:
    """Resolve the machines and place every worker (see :func:`allocate`)."""
    machines = cluster_machines(config, extra_machines)
    workers = allocate(config, machines, strategy, existing)
    return ClusterPlan(
        config=config,
        head=machines[0],
        machines=machines,
        workers=workers,
        strategy=strategy or config.allocation,
    )
