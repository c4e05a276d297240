"""spawn-site --launcher ray on a cluster raised by `chia up`: each agent is a Ray actor
with its own resources; the run finishes like under the local launcher, and SIGTERM
stops every actor."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chia.testing.clusters import cluster_sandbox

CHIA = str(Path(sys.executable).parent / "chia")

CLUSTER = """
cluster_name: @NAME@
provider: {head_ip: 127.0.0.1, temp_root: @TEMP_ROOT@}
available_node_types:
  cpu:
    resources: {CPU: 1}
  fpga:
    resources: {CPU: 1, fpga: 1}
"""


def _spawn(box, path, runs, run_id, *extra):
    log = box.workdir / f"{run_id}.out"
    out = log.open("w")
    proc = subprocess.Popen(
        [
            CHIA,
            "spawn-site",
            "--runs-dir",
            str(runs),
            "--system",
            "local",
            "--campaign",
            "federated-chat",
            "--run-id",
            run_id,
            "--site",
            "rayhost",
            "--agents",
            "agent-aurora,agent-crux",
            "--launcher",
            "ray",
            "--ray-address",
            str(path),
            "--ray-resources",
            '{"agent-crux": {"fpga": 1}}',
            *extra,
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=box.env,
        text=True,
        start_new_session=True,
    )
    return proc, log


@pytest.mark.slow
def test_agents_as_ray_actors(tmp_path, redis):
    runs = tmp_path / "runs"
    with cluster_sandbox(tmp_path) as box:
        path = box.write(CLUSTER)
        up = box.chia("up", str(path), "-y")
        assert up.returncode == 0, up.stdout + up.stderr
        try:
            proc, log = _spawn(
                box, path, runs, "ray-1", "--exchange", "redis", "--exchange-url", redis.url(9)
            )
            assert proc.wait(timeout=120) == 0, log.read_text()
            output = log.read_text()
            assert "with the ray launcher" in output and "bootstrap dispatched" in output
            placement = json.loads((runs / "ray-1" / "rayhost" / "placement.json").read_text())
            assert placement["launcher"] == "ray"
            assert {a["agent"] for a in placement["agents"]} == {"agent-aurora", "agent-crux"}
            # Landmarks read as with the other launchers, without Ray's "(_HostActor pid=..)".
            crux_node = re.search(r"^\[rayhost rank1\] agent-crux: on ray node (\w+)", output, re.M)
            crux_node = crux_node.group(1)
            state = json.loads((box.state_dir / f"{box.name}.json").read_text())
            assert crux_node and "fpga-1" in state["nodes"]

            # SIGTERM: every actor stops its agent cleanly, nothing is left running.
            proc, log = _spawn(
                box,
                path,
                runs,
                "ray-2",
                "--exchange",
                "redis",
                "--exchange-url",
                redis.url(10),
                "--no-bootstrap",
            )
            deadline = time.monotonic() + 90
            while "bootstrap skipped" not in log.read_text():
                assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            status = runs / "ray-2" / "rayhost" / "status"
            pids = [json.loads(p.read_text())["pid"] for p in status.glob("*.json")]
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 1
            assert "interrupted" in log.read_text()
            states = {json.loads(p.read_text())["state"] for p in status.glob("*.json")}
            assert states == {"finished"}
            deadline = time.monotonic() + 10
            while any(Path(f"/proc/{pid}").exists() for pid in pids):
                assert time.monotonic() < deadline, pids
                time.sleep(0.1)
        finally:
            down = box.chia("down", str(path))
        assert down.returncode == 0, down.stderr
        assert box.processes() == {}
