"""`chia up` over real ssh: workers on "another machine" (sshd on 127.0.0.1, own key, free
port) join the head started here; a task needing their resource runs there; `down` stops
them over ssh and leaves nothing running."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from chia.testing.clusters import cluster_sandbox
from chia.testing.sshd import sshd_server

CLUSTER = """
cluster_name: @NAME@
provider:
  head_ip: 127.0.0.1
  temp_root: @TEMP_ROOT@
  machines:
    - {name: here, ip: 127.0.0.1}
    - name: far
      ip: 127.0.0.1
      ssh: true
      ssh_port: ${FAR_PORT}
auth:
  ssh_user: ${FAR_USER}
  ssh_private_key: ${FAR_KEY}
  ssh_options: [StrictHostKeyChecking=no, UserKnownHostsFile=/dev/null, LogLevel=ERROR]
allocation: spread
available_node_types:
  sim: {resources: {CPU: 1}, num_workers: 1, compatible_ips: [here]}
  fpga: {resources: {CPU: 1, fpga: 1}, num_workers: 2, compatible_ips: [far]}
"""


def _environ(pid: int) -> bytes:
    return Path(f"/proc/{pid}/environ").read_bytes()


@pytest.mark.slow
def test_workers_on_a_machine_reached_over_ssh(tmp_path):
    with sshd_server() as sshd, cluster_sandbox(tmp_path) as box:
        path = box.write(CLUSTER)
        env = {"FAR_PORT": str(sshd.port), "FAR_USER": sshd.user, "FAR_KEY": str(sshd.identity)}
        box_env = {**box.env, **env}
        run = lambda *a: subprocess.run(  # noqa: E731
            [str(Path(sys.executable).parent / "chia"), *a],
            capture_output=True,
            text=True,
            env=box_env,
            timeout=300,
        )
        dry = run("up", str(path), "--dry-run")
        assert dry.returncode == 0, dry.stderr
        far_section = dry.stdout.split("machine far")[1]
        assert f"-p {sshd.port}" in far_section and far_section.count("[fpga-") == 2

        up = run("up", str(path), "-y")
        assert up.returncode == 0, up.stdout + up.stderr
        try:
            state = json.loads((box.state_dir / f"{box.name}.json").read_text())
            nodes = state["nodes"]
            assert {n: nodes[n]["machine"]["name"] for n in nodes if n != "head"} == {
                "sim-1": "here",
                "fpga-1": "far",
                "fpga-2": "far",
            }
            # Started through sshd: the far nodes carry the ssh session's environment.
            assert b"SSH_CONNECTION=" in _environ(nodes["fpga-1"]["pid"])
            assert b"SSH_CONNECTION=" not in _environ(nodes["sim-1"]["pid"])
            seen = box.run_on_fpga()
            assert seen["alive"] == 4 and seen["ran_on"] in seen["fpga"]
        finally:
            down = run("down", str(path))
        assert down.returncode == 0, down.stderr
        assert box.processes() == {}
