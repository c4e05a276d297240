from __future__ import annotations

import json
import os
import pty
import subprocess

from chia.cluster.state import ClusterState
from chia.testing.clusters import CHIA


def test_schema_is_json_schema(chia):
    out = chia("cluster", "schema")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["title"] == "chia cluster file"


def test_bad_file_is_one_line_and_exit_2(chia, tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("cluster_name: x\nprovider: {head_ip: 127.0.0.1}\nallocation: random\n")
    out = chia("up", str(bad), "--dry-run")
    assert out.returncode == 2
    assert f"{bad}:3: allocation:" in out.stderr


def test_plan_and_dry_run_start_nothing(chia, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "cluster_name: local-test\nprovider: {head_ip: 127.0.0.1}\navailable_node_types:\n"
        "  sim:\n    resources: {CPU: 1, verilator: 2}\n    num_workers: 2\n"
        "    compatible_ips: [127.0.0.1]\n"
    )
    env = {"CHIA_CLUSTERS_DIR": str(tmp_path / "state")}
    out = chia("cluster", "plan", str(path), "--strategy", "pack", env=env)
    assert out.returncode == 0, out.stderr
    assert "strategy pack" in out.stdout
    assert out.stdout.count("--resources '{\"verilator\":2}'") == 2
    assert not (tmp_path / "state").exists()


def test_chia_down_flags(chia, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("cluster_name: not-up\nprovider: {head_ip: 127.0.0.1}\n")
    env = {"CHIA_CLUSTERS_DIR": str(tmp_path / "state")}
    refused = chia("down", str(path), "--no-scoped", env=env)
    assert refused.returncode == 2
    assert "--no-scoped" in refused.stderr and "ray stop" in refused.stderr
    out = chia("down", str(path), "-y", "--verbose", env=env)  # accepted, then: not up
    assert out.returncode == 2 and "is not up" in out.stderr, out.stderr


def test_job_stop_help_without_a_cluster(chia, tmp_path):
    env = {"CHIA_CLUSTERS_DIR": str(tmp_path / "state")}
    helped = chia("job", "stop", "--help", env=env)  # chia's stop flags, then Ray's help
    assert helped.returncode == 0, helped.stderr
    assert "--grace-period" in helped.stdout and "--no-wait" in helped.stdout


def _on_a_terminal(args: list[str], answer: str) -> tuple[int, str]:
    """Run ``chia args`` with a terminal as stdin, typing ``answer``."""
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [CHIA, *args], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        os.write(master, answer.encode())
        out, _ = proc.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    return proc.returncode, out


def test_chia_down_asks_on_a_terminal_unless_yes(tmp_path, monkeypatch):
    monkeypatch.setenv("CHIA_CLUSTERS_DIR", str(tmp_path / "state"))
    path = tmp_path / "c.yaml"
    path.write_text("cluster_name: asked\nprovider: {head_ip: 127.0.0.1}\n")
    state = ClusterState(cluster_name="asked", config_path=str(path), head_address="x:1")
    state_file = state.save()  # a cluster with no node left: down only forgets it
    code, out = _on_a_terminal(["down", str(path)], "n\n")
    assert code == 1 and "tear down this cluster?" in out and "aborted" in out, out
    assert state_file.exists()
    code, out = _on_a_terminal(["down", str(path), "-y"], "")
    assert code == 0 and "cluster asked is down" in out, out
    assert "tear down" not in out and not state_file.exists()
