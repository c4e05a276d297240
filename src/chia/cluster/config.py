"""The cluster file: physical machines, logical worker types, containers and cloud nodes.

A cluster YAML names a head machine (``provider``), how to reach machines (``auth``),
logical worker types (``available_node_types``) with the resources each exposes, and
optionally cloud machines (``aws_nodes`` / ``gcp_nodes``) and Ray-style hooks.
Every model forbids unknown keys so a typo is reported, never ignored.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from chia.names import NAME_PATTERN
from chia.netaddr import is_local_address

__all__ = [
    "AllocationStrategy",
    "Auth",
    "AwsNodes",
    "ClusterConfig",
    "Container",
    "GcpNodes",
    "Machine",
    "NodeType",
    "Provider",
]

AllocationStrategy = Literal["least-loaded", "pack", "spread"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Machine(_Strict):
    """A physical machine workers may be placed on."""

    ip: str = Field(description="Address Ray nodes on this machine advertise and ssh reaches.")
    name: str | None = Field(None, pattern=NAME_PATTERN, description="Default: the ip.")
    ssh: bool | None = Field(
        None, description="Reach it over ssh (default: only when the ip is not this host)."
    )
    ssh_port: int | None = Field(None, gt=0, lt=65536)
    ssh_user: str | None = Field(None, description="Overrides auth.ssh_user for this machine.")
    cpus: float | None = Field(None, gt=0, description="Capacity used by the allocation.")
    resources: dict[str, float] = Field(
        default_factory=dict, description="Hardware the machine has, e.g. {fpga: 1}."
    )
    group: str | None = Field(None, description="A selector tag, e.g. aws or gpu-boxes.")
    tunnel: bool = Field(
        False, description="Firewalled: reach the head through an ssh reverse tunnel."
    )
    ray_command: str | None = Field(None, description="The ray executable on this machine.")

    @property
    def label(self) -> str:
        """The machine's name (its ip when unnamed)."""
        return self.name or self.ip

    @property
    def remote(self) -> bool:
        """True when commands reach this machine over ssh."""
        if self.ssh is not None:
            return self.ssh
        return not is_local_address(self.ip)

    def matches(self, selector: str) -> bool:
        """Return True if ``selector`` is this machine's ip, name or group."""
        return selector in (self.ip, self.name, self.group)


class Provider(_Strict):
    """The head machine and the machines the cluster may use."""

    type: Literal["local"] = Field("local", description="Machines are given, not created.")
    head_ip: str
    head_port: int | None = Field(
        None, gt=0, lt=65536, description="GCS port of the head (default: a free port)."
    )
    machines: list[Machine] = Field(default_factory=list)
    ray_command: str | None = Field(
        None, description="The ray executable (default: the one beside chia's Python)."
    )
    ray_auth: Literal["token", "disabled"] = Field(
        "token", description="Ray token authentication; the token is copied to every machine."
    )
    temp_root: str = Field(
        "/tmp/chia-ray",
        description="Per-node Ray temp dirs go under <temp_root>/<cluster>/ (keep it short).",
    )


class Auth(_Strict):
    """How ssh reaches remote machines."""

    ssh_user: str | None = None
    ssh_private_key: str | None = None
    ssh_proxy_command: str | None = None
    ssh_options: list[str] = Field(default_factory=list, description="Extra -o options.")


class Container(_Strict):
    """Run a logical worker inside a container."""

    engine: Literal["docker", "apptainer"] = "docker"
    image: str
    executable: str | None = Field(None, description="Engine executable (default: its name).")
    run_options: list[str] = Field(default_factory=list)
    shm_size: str = Field("2g", description="docker --shm-size (apptainer uses the host's).")
    mounts: dict[str, str] = Field(default_factory=dict, description="host path: container path")
    env: dict[str, str] = Field(default_factory=dict)
    ray_command: str = Field("ray", description="The ray executable inside the image.")


class NodeType(_Strict):
    """A logical worker type: resources it exposes and where it may run."""

    resources: dict[str, float] = Field(
        default_factory=dict, description="CPU, GPU, memory (bytes) and custom resources."
    )
    num_workers: int = Field(1, ge=0)
    compatible_ips: list[str] | None = Field(
        None, description="Machine ips, names or groups it may run on (default: any)."
    )
    requires: dict[str, float] = Field(
        default_factory=dict, description="Machine resources it needs, e.g. {fpga: 1}."
    )
    setup_commands: list[str] = Field(default_factory=list)
    container: Container | None = None

    @field_validator("resources")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for key, amount in value.items():
            if amount < 0:
                raise ValueError(f"resource {key!r} must not be negative")
        return value

    @property
    def cpus(self) -> float:
        """The CPUs one worker of this type exposes (1 when unset)."""
        return float(self.resources.get("CPU", 1))


class AwsNodes(_Strict):
    """EC2 machines created by ``chia up`` and terminated by ``chia down``."""

    region: str
    instance_type: str
    image_id: str
    key_name: str
    count: int = Field(1, ge=1)
    security_group_ids: list[str] = Field(default_factory=list)
    subnet_id: str | None = None
    ssh_user: str = "ubuntu"
    use_private_ip: bool = True
    cpus: float | None = Field(None, gt=0)
    tags: dict[str, str] = Field(default_factory=dict)


class GcpNodes(_Strict):
    """Compute Engine machines created by ``chia up`` and deleted by ``chia down``."""

    project: str
    zone: str
    machine_type: str
    source_image: str
    count: int = Field(1, ge=1)
    network: str = "global/networks/default"
    ssh_user: str = "chia"
    use_private_ip: bool = True
    cpus: float | None = Field(None, gt=0)
    labels: dict[str, str] = Field(default_factory=dict)


class ClusterConfig(_Strict):
    """A whole cluster file."""

    cluster_name: str = Field(pattern=NAME_PATTERN)
    provider: Provider
    auth: Auth = Field(default_factory=Auth)
    allocation: AllocationStrategy = "least-loaded"
    head_resources: dict[str, float] = Field(
        default_factory=lambda: {"CPU": 0.0},
        description="Resources the head exposes (default none: work goes to workers).",
    )
    available_node_types: dict[str, NodeType] = Field(default_factory=dict)
    aws_nodes: AwsNodes | None = None
    gcp_nodes: GcpNodes | None = None
    file_mounts: dict[str, str] = Field(
        default_factory=dict, description="remote path: local path, copied to every machine."
    )
    initialization_commands: list[str] = Field(
        default_factory=list, description="Run on every machine first, outside containers."
    )
    setup_commands: list[str] = Field(default_factory=list, description="Every Ray node.")
    head_setup_commands: list[str] = Field(default_factory=list)
    worker_setup_commands: list[str] = Field(default_factory=list)
    head_ray_args: list[str] = Field(default_factory=list, description="Extra `ray start` args.")
    worker_ray_args: list[str] = Field(default_factory=list)
    scoped_teardown: bool = Field(
        True,
        description="CHIA's key: `chia down` stops only this cluster's processes (always).",
    )

    @field_validator("scoped_teardown")
    @classmethod
    def _scoped_only(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "false (a host-wide `ray stop`) is not supported: `chia down` stops only this "
                "cluster's processes; run `ray stop` on the machine for the rest"
            )
        return value

    @field_validator("available_node_types")
    @classmethod
    def _type_names(cls, value: dict[str, NodeType]) -> dict[str, NodeType]:
        import re

        for name in value:
            if not re.fullmatch(NAME_PATTERN, name):
                raise ValueError(f"invalid node type name {name!r}")
        return value

    @model_validator(mode="after")
    def _unique_machines(self) -> ClusterConfig:
        labels = [m.label for m in self.provider.machines]
        dupes = sorted({label for label in labels if labels.count(label) > 1})
        if dupes:
            raise ValueError(f"machine names must be unique: {dupes} (give each a 'name')")
        return self
