"""What ``chia up`` started, kept on the operator's machine so ``down``/``--add`` find it.

One JSON file per cluster under ``$CHIA_CLUSTERS_DIR`` (default ``~/.chia/clusters``),
written atomically after every change.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from pydantic import AwareDatetime, BaseModel, Field

from chia.cluster.config import Machine
from chia.events import write_json_atomic

__all__ = [
    "CloudInstance",
    "ClusterState",
    "NodeRecord",
    "TunnelRecord",
    "clusters_dir",
    "live_states",
]


def clusters_dir() -> Path:
    """Where cluster state files live (``$CHIA_CLUSTERS_DIR`` or ``~/.chia/clusters``)."""
    return Path(os.environ.get("CHIA_CLUSTERS_DIR") or Path.home() / ".chia" / "clusters")


class NodeRecord(BaseModel):
    """One started Ray node: where, its leader pid, and its temp dir."""

    name: str
    node_type: str | None = Field(None, description="None for the head.")
    machine: Machine
    pid: int
    temp_dir: str
    container: str | None = None
    stop_extra: list[str] | None = None


class CloudInstance(BaseModel):
    """A machine a cloud provider created for this cluster."""

    provider: str
    instance_id: str
    machine: Machine
    zone: str | None = None


class TunnelRecord(BaseModel):
    """An ssh reverse tunnel: ``bind_host:remote_port`` on the machine reaches the head."""

    machine: str
    remote_port: int
    target: str
    pid: int
    bind_host: str = Field("127.0.0.1", description="Where the machine's end listens.")


class ClusterState(BaseModel):
    """The live cluster: head address, nodes, cloud machines and tunnels."""

    cluster_name: str
    config_path: str
    head_address: str
    dashboard_url: str | None = None
    client_env: dict[str, str] = Field(
        default_factory=dict, description="RAY_ADDRESS and auth settings for drivers (no secret)."
    )
    nodes: dict[str, NodeRecord] = Field(default_factory=dict)
    cloud: list[CloudInstance] = Field(default_factory=list)
    tunnels: list[TunnelRecord] = Field(default_factory=list)
    updated: AwareDatetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @staticmethod
    def path_for(cluster_name: str) -> Path:
        """The state file of ``cluster_name``."""
        return clusters_dir() / f"{cluster_name}.json"

    @classmethod
    def load(cls, cluster_name: str) -> ClusterState | None:
        """The saved state, or None if the cluster is not up."""
        path = cls.path_for(cluster_name)
        if not path.is_file():
            return None
        return cls.model_validate_json(path.read_bytes())

    def save(self) -> Path:
        """Write the state atomically; return its path."""
        self.updated = datetime.now(timezone.utc)
        path = self.path_for(self.cluster_name)
        write_json_atomic(path, self.model_dump(mode="json"))
        return path

    def forget(self) -> None:
        """Remove the state file (the cluster is down)."""
        self.path_for(self.cluster_name).unlink(missing_ok=True)


def live_states() -> list[ClusterState]:
    """Every saved cluster state, by name."""
    root = clusters_dir()
    if not root.is_dir():
        return []
    return [ClusterState.model_validate_json(p.read_bytes()) for p in sorted(root.glob("*.json"))]
