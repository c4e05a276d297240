from __future__ import annotations

import pytest

from chia.cluster.lifecycle import cluster_down, cluster_up
from chia.cluster.loading import parse_cluster
from chia.cluster.state import ClusterState
from chia.errors import ChiaUsageError

FILE = """\
cluster_name: life
provider:
  head_ip: 127.0.0.1
  machines: [{name: far, ip: 10.0.0.9, ssh_port: 2200}]
auth: {ssh_user: ops}
initialization_commands: [mkdir -p /scratch]
file_mounts: {/opt/cfg.json: /etc/hosts}
available_node_types:
  near: {resources: {CPU: 1}, compatible_ips: [127.0.0.1]}
  away: {resources: {CPU: 1, fpga: 1}, num_workers: 2, compatible_ips: [far]}
"""


def test_dry_run_prints_every_command_per_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIA_CLUSTERS_DIR", str(tmp_path))
    lines: list[str] = []
    result = cluster_up(parse_cluster(FILE), tmp_path / "c.yaml", dry_run=True, say=lines.append)
    text = lines[0]
    local, far = text.split("machine far")
    assert "[head]" in local and "[near-1]" in local and "[away-1]" not in local
    assert "ssh -o BatchMode=yes -o ConnectTimeout=10 -p 2200 ops@10.0.0.9" in far
    assert "[init] mkdir -p /scratch" in far and "[copy] rsync -a" in far
    assert far.count("--address 127.0.0.1:") == 2
    assert result.state is None and not list(tmp_path.glob("*.json"))


def test_declined_confirmation_starts_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIA_CLUSTERS_DIR", str(tmp_path))
    with pytest.raises(ChiaUsageError, match="aborted"):
        cluster_up(
            parse_cluster(FILE), tmp_path / "c.yaml", confirm=lambda _t: False, say=lambda _t: None
        )
    assert not list(tmp_path.glob("*.json"))


def test_up_twice_add_without_up_and_down_without_up(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIA_CLUSTERS_DIR", str(tmp_path))
    config = parse_cluster(FILE)
    with pytest.raises(ChiaUsageError, match="not up"):
        cluster_up(config, tmp_path / "c.yaml", add=True, say=lambda _t: None)
    with pytest.raises(ChiaUsageError, match="not up"):
        cluster_down(config, say=lambda _t: None)
    ClusterState(cluster_name="life", config_path="c", head_address="127.0.0.1:1").save()
    with pytest.raises(ChiaUsageError, match="already up"):
        cluster_up(config, tmp_path / "c.yaml", say=lambda _t: None)


def test_down_keeps_the_state_when_a_machine_cannot_be_reached(tmp_path, monkeypatch):
    from chia.cluster.config import Machine
    from chia.cluster.state import NodeRecord
    from chia.errors import ChiaError
    from chia.netaddr import free_port

    monkeypatch.setenv("CHIA_CLUSTERS_DIR", str(tmp_path))
    gone = Machine(name="gone", ip="127.0.0.1", ssh=True, ssh_port=free_port())
    state = ClusterState(cluster_name="life", config_path="c", head_address="127.0.0.1:1")
    state.nodes["away-1"] = NodeRecord(
        name="away-1", node_type="away", machine=gone, pid=1, temp_dir="/tmp/none"
    )
    state.save()
    with pytest.raises(ChiaError, match="could not stop: away-1 on gone"):
        cluster_down(parse_cluster(FILE), say=lambda _t: None)
    assert ClusterState.load("life") is not None
