from __future__ import annotations

from pathlib import Path

import pytest

from chia.cluster.proxy import (
    asks_for_help,
    names_address,
    parse_job_stop,
    ray_argv,
    resolve_state,
    split_cluster_option,
)
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


def test_cluster_option_anywhere_before_the_separator():
    given = Path("a.yaml")
    assert split_cluster_option(["status"], None) == (None, ["status"])
    assert split_cluster_option(["list", "nodes"], given) == (given, ["list", "nodes"])
    assert split_cluster_option(["status", "--chia-cluster", "b.yaml", "x"], given) == (
        Path("b.yaml"),
        ["status", "x"],
    )
    assert split_cluster_option(["status", "--chia-cluster=c.yaml"], None) == (
        Path("c.yaml"),
        ["status"],
    )
    entry = ["submit", "--no-wait", "--", "python", "app.py", "--chia-cluster", "foo"]
    assert split_cluster_option(entry, None) == (None, entry)
    with pytest.raises(ChiaUsageError, match="--chia-cluster needs"):
        split_cluster_option(["status", "--chia-cluster"], None)


def test_help_and_address_count_only_before_the_separator():
    assert asks_for_help(["submit", "--help"]) and asks_for_help(["-h"])
    assert not asks_for_help(["submit", "--", "python", "app.py", "--help"])
    assert names_address(["--address", "1.2.3.4:6379"]) and names_address(["--address=x"])
    assert not names_address(["submit", "--", "tool", "--address", "x"])


def test_job_stop_takes_chia_flags_out():
    stop = parse_job_stop(["hold-1", "--kill-tracked-pids", "--grace-period", "3", "--no-wait"])
    assert (stop.submission_id, stop.grace_s, stop.ray_args) == (
        "hold-1",
        3.0,
        ["hold-1", "--no-wait"],
    )
    stop = parse_job_stop(["--address", "http://h:8265", "--grace-period=0.5", "raysubmit_1"])
    assert stop.submission_id == "raysubmit_1" and stop.grace_s == 0.5
    assert stop.ray_args == ["--address", "http://h:8265", "raysubmit_1"]
    assert parse_job_stop(["--help"]).submission_id is None
    assert parse_job_stop(["j"]).grace_s == 5.0
    for bad in (
        ["j", "--grace-period"],
        ["j", "--grace-period", "soon"],
        ["j", "--grace-period=-1"],
    ):
        with pytest.raises(ChiaUsageError, match="--grace-period"):
            parse_job_stop(bad)
