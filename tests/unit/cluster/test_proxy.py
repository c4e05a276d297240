from __future__ import annotations

import pytest

from chia.cluster.proxy import ray_argv, resolve_state
from chia.cluster.state import ClusterState
from chia.errors import ChiaUsageError


def _state(name: str) -> ClusterState:
    return ClusterState(
        cluster_name=name,
        config_path="/x",
        head_address="127.0.0.1:7",
        dashboard_url="http://127.0.0.1:8",
    )


def test_argv_per_command():
    state = _state("a")
    assert ray_argv("status", [], state)[1:] == ["status", "--address", "127.0.0.1:7"]
    assert ray_argv("list", ["nodes", "--limit", "5"], state)[1:] == [
        "list",
        "nodes",
        "--address",
        "http://127.0.0.1:8",
        "--limit",
        "5",
    ]
    assert ray_argv("job", ["submit", "--", "python", "x.py"], state)[1:] == [
        "job",
        "submit",
        "--address",
        "http://127.0.0.1:8",
        "--",
        "python",
        "x.py",
    ]
    assert ray_argv("ray", ["memory"], state)[1:] == ["memory"]
    with pytest.raises(ChiaUsageError):
        ray_argv("job", [], state)


def test_resolution(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIA_CLUSTERS_DIR", str(tmp_path))
    with pytest.raises(ChiaUsageError, match="no live chia cluster"):
        resolve_state(None)
    _state("a").save()
    assert resolve_state(None).cluster_name == "a"
    _state("b").save()
    with pytest.raises(ChiaUsageError, match="several live clusters"):
        resolve_state(None)
    file = tmp_path / "b.yaml"
    file.write_text("cluster_name: b\nprovider: {head_ip: 127.0.0.1}\n")
    assert resolve_state(file).cluster_name == "b"
    file.write_text("cluster_name: c\nprovider: {head_ip: 127.0.0.1}\n")
    with pytest.raises(ChiaUsageError, match="is not up"):
        resolve_state(file)
