"""Preparing machines runs initialization commands and copies file mounts, for real."""

from __future__ import annotations

import pytest

from chia.cluster.executor import executor_for
from chia.cluster.loading import parse_cluster
from chia.cluster.nodes import READY_MARK, NodeLaunch, stop_script
from chia.cluster.plan import cluster_machines
from chia.cluster.startup import JOIN_RETRIES, prepare_machines, start_nodes, start_worker
from chia.cluster.state import ClusterState, NodeRecord
from chia.errors import ChiaError


def _config(tmp_path, init: str, source: str):
    return parse_cluster(
        f"""\
cluster_name: prep
provider: {{head_ip: 127.0.0.1}}
initialization_commands: [{init!r}]
file_mounts: {{{str(tmp_path / "mounted" / "cfg.json")!r}: {source!r}}}
available_node_types:
  sim: {{resources: {{CPU: 1}}, compatible_ips: [127.0.0.1]}}
"""
    )


def test_initialization_and_file_mounts_run_on_each_machine(tmp_path):
    source = tmp_path / "cfg.json"
    source.write_text('{"ok": true}')
    (tmp_path / "mounted").mkdir()
    config = _config(tmp_path, f"touch {tmp_path / 'initialized'}", str(source))
    lines: list[str] = []
    prepare_machines(config, cluster_machines(config), lines.append)
    assert (tmp_path / "initialized").exists()
    assert (tmp_path / "mounted" / "cfg.json").read_text() == '{"ok": true}'
    assert any("prepared" in line for line in lines)


def test_a_failing_initialization_command_stops_with_its_name(tmp_path):
    source = tmp_path / "cfg.json"
    source.write_text("{}")
    config = _config(tmp_path, "exit 3", str(source))
    with pytest.raises(ChiaError, match="initialization command 'exit 3'"):
        prepare_machines(config, cluster_machines(config), print)


def _flaky_worker(config, tmp_path, failures: int) -> NodeLaunch:
    """A stand-in for `ray start`: Ray's registration timeout ``failures`` times, then up.

    Ray's own 30 s registration timeout cannot be provoked on demand; the launch, the
    readiness check and the stop around it are the real ones.
    """
    temp_dir = tmp_path / "worker-1"
    script = (
        f'cd {temp_dir}; echo "$2" >> ports; '
        'n=$(cat tries 2>/dev/null || echo 0); n=$((n+1)); echo "$n" > tries; '
        f'if [ "$n" -le {failures} ]; then echo "Exception: The current node timed out during '
        'startup. This could happen because some of the raylet failed to startup."; exit 1; fi; '
        f'echo "{READY_MARK} on this node."; sleep 60'
    )
    machine = cluster_machines(config)[0]
    return NodeLaunch(
        name="worker-1",
        machine=machine,
        temp_dir=str(temp_dir),
        main=["sh", "-c", script, "sh", "--metrics-export-port", "1"],
        node_type="sim",
    )


def _cluster():
    return parse_cluster(
        """\
cluster_name: retry
provider: {head_ip: 127.0.0.1}
available_node_types:
  sim: {resources: {CPU: 1}, compatible_ips: [127.0.0.1]}
"""
    )


def test_a_worker_ray_timed_out_registering_is_started_again(tmp_path):
    config = _cluster()
    node = _flaky_worker(config, tmp_path, failures=1)
    lines: list[str] = []
    started: list[NodeRecord] = []
    record = start_worker(config, node, 20.0, lines.append, started)
    try:
        assert (tmp_path / "worker-1" / "tries").read_text().strip() == "2"
        assert len(started) == 2 and started[-1] is record
        assert any("timed out registering" in line and "(1/2)" in line for line in lines)
        ports = (tmp_path / "worker-1" / "ports").read_text().split()
        assert ports[0] == "1" and ports[1] != "1", "started again on the same agent port"
    finally:
        executor_for(record.machine, config.auth).run(stop_script(record.pid, record.temp_dir, 1))


def test_a_worker_that_keeps_timing_out_fails_naming_it(tmp_path):
    config = _cluster()
    node = _flaky_worker(config, tmp_path, failures=JOIN_RETRIES + 1)
    with pytest.raises(ChiaError, match=r"worker-1 on .* exited:\n.*timed out during startup"):
        start_worker(config, node, 20.0, print, [])
    assert (tmp_path / "worker-1" / "tries").read_text().strip() == str(JOIN_RETRIES + 1)


def test_a_worker_started_again_is_one_node_in_what_up_reports(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIA_CLUSTERS_DIR", str(tmp_path / "clusters"))
    config = _cluster()
    node = _flaky_worker(config, tmp_path, failures=1)
    state = ClusterState(cluster_name="retry", config_path="c.yaml", head_address="127.0.0.1:1")
    names = start_nodes(config, [node], state, print, 20.0)
    try:
        assert (tmp_path / "worker-1" / "tries").read_text().strip() == "2"
        assert names == ["worker-1"]  # two launches, one node
    finally:
        record = state.nodes["worker-1"]
        executor_for(record.machine, config.auth).run(stop_script(record.pid, record.temp_dir, 1))
