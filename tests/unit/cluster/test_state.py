from __future__ import annotations

from chia.cluster.config import Machine
from chia.cluster.state import ClusterState, NodeRecord, clusters_dir, live_states


def test_round_trip_and_forget(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIA_CLUSTERS_DIR", str(tmp_path))
    assert clusters_dir() == tmp_path and live_states() == []
    state = ClusterState(cluster_name="c", config_path="/c.yaml", head_address="127.0.0.1:1")
    state.nodes["head"] = NodeRecord(
        name="head", machine=Machine(ip="127.0.0.1"), pid=5, temp_dir="/t"
    )
    path = state.save()
    assert path == tmp_path / "c.json"
    loaded = ClusterState.load("c")
    assert loaded is not None and loaded.nodes["head"].pid == 5
    assert [s.cluster_name for s in live_states()] == ["c"]
    loaded.forget()
    assert ClusterState.load("c") is None
