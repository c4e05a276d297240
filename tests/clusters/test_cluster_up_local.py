"""`chia up` raises head + 3 logical workers on this machine; tasks land by resource;
`--add` restores a killed worker; `chia down` leaves no Ray process of this cluster."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from chia.testing.clusters import cluster_sandbox

CLUSTER = """
cluster_name: @NAME@
provider: {head_ip: 127.0.0.1, temp_root: @TEMP_ROOT@}
# A lost node is noticed in ~1.5 s instead of ~30 s.
head_ray_args:
  - --system-config
  - '{"health_check_period_ms": 500, "health_check_failure_threshold": 3}'
available_node_types:
  sim:
    resources: {CPU: 1, verilator: 2}
    num_workers: 2
    compatible_ips: [127.0.0.1]
  fpga:
    resources: {CPU: 1, fpga: 1}
    num_workers: 1
"""


@pytest.mark.slow
def test_up_add_down_on_this_machine(tmp_path):
    with cluster_sandbox(tmp_path) as box:
        path = box.write(CLUSTER)
        dry = box.chia("up", str(path), "--dry-run")
        assert dry.returncode == 0, dry.stderr
        assert dry.stdout.count(" start --block ") == 3 and "--head" in dry.stdout
        assert box.processes() == {} and not list(box.state_dir.glob("*.json"))

        up = box.chia("up", str(path), "-y")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "started 4 node(s)" in up.stdout
        seen = box.run_on_fpga()
        assert seen["alive"] == 4
        assert seen["fpga"] == [seen["ran_on"]]  # the custom resource picked the worker

        again = box.chia("up", str(path), "-y")
        assert again.returncode == 2 and "already up" in again.stderr

        state = json.loads((box.state_dir / f"{box.name}.json").read_text())
        os.killpg(state["nodes"]["fpga-1"]["pid"], signal.SIGKILL)  # the machine "dies"
        add = box.chia("up", str(path), "--add", "-y")
        assert add.returncode == 0, add.stdout + add.stderr
        assert "started 1 node(s), kept 2" in add.stdout
        deadline = time.monotonic() + 30
        while (seen := box.run_on_fpga())["alive"] != 4 and time.monotonic() < deadline:
            time.sleep(1)
        assert seen["fpga"] == [seen["ran_on"]]

        down = box.chia("down", str(path))
        assert down.returncode == 0, down.stderr
        assert down.stdout.index("sim-1") < down.stdout.index("stopping head")
        assert box.processes() == {}
        assert not (box.state_dir / f"{box.name}.json").exists()
