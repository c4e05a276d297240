"""ray: SIGKILL of the worker process that hosts crux's actor; the driver re-creates it.

Crux runs as a Ray actor on a one-node cluster raised with ``chia up``; aurora runs on
the local launcher. The actor's worker process (its pid from crux's status) is killed:
the driver prints the restart landmark, a new actor (a new pid) hosts crux under the same
uid, told it is restart 1, and the counter game completes with the exact result.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chia.testing.campaigns import write_campaign_dir
from chia.testing.clusters import cluster_sandbox

CHIA = str(Path(sys.executable).parent / "chia")
CLUSTER = """
cluster_name: @NAME@
provider: {head_ip: 127.0.0.1, temp_root: @TEMP_ROOT@}
available_node_types:
  cpu:
    resources: {CPU: 1}
"""
AGENTS = [
    {"name": "agent-aurora", "role": "r", "mission": "m", "allowed_peers": ["agent-crux"]},
    {"name": "agent-crux", "role": "r", "mission": "m", "allowed_peers": ["agent-aurora"]},
]


def _status(path):
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def _wait(condition, what, timeout=90.0):
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def _spawn(box, runs, *args, name):
    log = box.workdir / f"{name}.out"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [CHIA, "spawn-site", "--runs-dir", str(runs), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=box.env,
            text=True,
            start_new_session=True,
        )
    return proc, log


@pytest.mark.slow
def test_a_killed_actor_is_recreated_by_the_driver(tmp_path, http_server):
    campaign = write_campaign_dir(
        tmp_path,
        "long-counter",
        AGENTS,
        policy={"kind": "counter", "target": 600},
        limits={"max_decisions": 5000, "idle_timeout_s": 120},
    )
    runs = tmp_path / "runs"
    common = ["--system", "local", "--campaign", str(campaign), "--run-id", "ray-restart"]
    common += ["--exchange", "http", "--exchange-url", http_server.url]
    with cluster_sandbox(tmp_path) as box:
        path = box.write(CLUSTER)
        up = box.chia("up", str(path), "-y")
        assert up.returncode == 0, up.stdout + up.stderr
        procs = []
        try:
            crux, crux_log = _spawn(
                box,
                runs,
                *common,
                *("--site", "crux", "--agents", "agent-crux"),
                *("--launcher", "ray", "--ray-address", str(path)),
                name="crux",
            )
            aurora, aurora_log = _spawn(
                box, runs, *common, "--site", "aurora", "--agents", "agent-aurora", name="aurora"
            )
            procs = [crux, aurora]
            status_path = runs / "ray-restart" / "crux" / "status" / "agent-crux.json"
            before = _wait(
                lambda: (s := _status(status_path)).get("decisions", 0) >= 5 and s, "crux's turns"
            )
            os.kill(before["pid"], signal.SIGKILL)  # the actor's worker process
            after = _wait(
                lambda: (s := _status(status_path)).get("pid") not in (None, before["pid"]) and s,
                "a new actor's pid in crux's status",
            )
            assert after["uid"] == before["uid"]
            assert crux.wait(timeout=120) == 0, crux_log.read_text()
            assert aurora.wait(timeout=60) == 0, aurora_log.read_text()
            output = crux_log.read_text()
            died = f"[crux] agent-crux (rank 0) died: worker process {before['pid']} died ("
            assert died in output and "; restart 1/3" in output, output
            events = (runs / "ray-restart" / "crux" / "events" / "agent-crux.jsonl").read_text()
            restarted = [json.loads(x) for x in events.splitlines() if "agent_restarted" in x]
            assert [e["restart"] for e in restarted] == [1]
            assert restarted[0]["cause"].startswith(f"worker process {before['pid']} died")
            final = _status(status_path)
            assert (final["result"], final["finish_reason"]) == ("counter = 600", "completed")
        finally:
            for proc in procs:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            down = box.chia("down", str(path))
        assert down.returncode == 0, down.stderr
        assert box.processes() == {}
