"""Ray's CLI pinned to a chia cluster: status, list, ray, and job stop that kills the job's
tracked subprocesses (PID registry) before stopping the job.

The commands are spelled as CHIA's documentation spells them (`chia up cluster.yaml -y -v`,
--chia-cluster before or after the Ray command or as `=PATH`, an entrypoint after `--`
that keeps its own `--chia-cluster`, `chia job stop ID --kill-tracked-pids --grace-period
N`, `chia down cluster.yaml -y`), so a CHIA user's scripts are what this runs."""

from __future__ import annotations

import sys
import time

import pytest

from chia.processes import is_running
from chia.testing.clusters import cluster_sandbox

CLUSTER = """
cluster_name: @NAME@
provider: {head_ip: 127.0.0.1, temp_root: @TEMP_ROOT@}
available_node_types:
  work: {resources: {CPU: 1, tool: 1}}
"""

JOB = """
import subprocess, sys, time, ray
from chia.base.ChiaFunction import ChiaFunction

@ChiaFunction(resources={"tool": 1})
def hold(path):
    child = subprocess.Popen(["sleep", "300"])
    open(path, "w").write(str(child.pid))
    return child.wait()

assert sys.argv[2:] == ["--chia-cluster", "verbatim"], sys.argv  # what followed `--`
ray.init()
print("result", ray.get(hold.chia_remote(sys.argv[1])))
time.sleep(300)  # only `chia job stop` ends this job
"""


@pytest.mark.slow
def test_proxy_commands_and_job_stop(tmp_path):
    with cluster_sandbox(tmp_path) as box:
        path = box.write(CLUSTER)
        assert box.chia("status").returncode == 2  # no live cluster yet: a usage error
        up = box.chia("up", str(path), "-y", "-v")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "run: " in up.stderr  # -v: each command run on each machine
        try:
            deadline = time.monotonic() + 30  # the autoscaler's report lags a few seconds
            while "tool" not in (status := box.chia("status", "--chia-cluster", str(path))).stdout:
                assert status.returncode == 0, status.stderr
                assert time.monotonic() < deadline, status.stdout
                time.sleep(1)
            nodes = box.chia("list", "nodes", f"--chia-cluster={path}")
            assert nodes.returncode == 0, nodes.stderr
            assert nodes.stdout.count("ALIVE") == 2
            assert box.chia("ray", "status").returncode == 0  # the only live cluster

            script = tmp_path / "job.py"
            script.write_text(JOB)
            pid_file = tmp_path / "child.pid"
            submit = box.chia(
                "job",
                "submit",
                "--chia-cluster",
                str(path),
                "--no-wait",
                "--submission-id",
                "hold-1",
                "--",
                sys.executable,
                str(script),
                str(pid_file),
                "--chia-cluster",
                "verbatim",
            )
            assert submit.returncode == 0, submit.stdout + submit.stderr
            deadline = time.monotonic() + 90
            while not pid_file.exists() or not pid_file.read_text():
                assert time.monotonic() < deadline, box.chia("job", "logs", "hold-1").stdout
                time.sleep(0.3)
            child = int(pid_file.read_text())
            assert is_running(child)
            stop = box.chia("job", "stop", "hold-1", "--kill-tracked-pids", "--grace-period", "2")
            assert stop.returncode == 0, stop.stdout + stop.stderr
            assert "killed 1 tracked subprocess(es) of hold-1" in stop.stdout
            deadline = time.monotonic() + 15
            while is_running(child):
                assert time.monotonic() < deadline
                time.sleep(0.1)
            assert (
                "was stopped"
                in box.chia("job", "--chia-cluster", str(path), "status", "hold-1").stdout
            )
        finally:
            down = box.chia("down", str(path), "-y")
        assert down.returncode == 0, down.stderr
        assert box.processes() == {}
