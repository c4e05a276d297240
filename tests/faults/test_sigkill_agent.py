"""SIGKILL one agent's process at a random point of the 1,000-message fault-flood campaign.

On each launcher (local, mpiexec, ray) and exchange (the self-hosted HTTP exchange, Redis):
crux's host process is killed with SIGKILL once crux has logged a random number of
messages (between 10% and 80% of the campaign, seeded per scenario so a failure can be
run again). The site supervises it: the agent comes back under the same uid, rebuilds its
state from its events file, and the campaign must complete with the exact expected
result, nothing lost and nothing decided twice.
"""

from __future__ import annotations

import json
import os
import random
import signal
import time
import zlib
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from chia.agent.scripted import BallsScriptedPolicy
from chia.campaign import BallsPolicy, load_campaign
from chia.testing.clusters import ClusterSandbox, cluster_sandbox

CAMPAIGN = "fault-flood"
RUN_TIMEOUT_S = 300  # generous: only so that a stuck campaign fails instead of hanging
CLUSTER = """
cluster_name: @NAME@
provider: {head_ip: 127.0.0.1, temp_root: @TEMP_ROOT@}
available_node_types:
  cpu:
    resources: {CPU: 2}
"""


@pytest.fixture
def ray_cluster(tmp_path: Path) -> Iterator[tuple[ClusterSandbox, Path]]:
    """A Ray cluster raised with ``chia up`` for one scenario (and brought down after it).

    One per scenario, not per module: the leftover check then proves ``chia down`` left
    nothing, and a scenario's kill cannot leave a broken cluster to the next.
    """
    with cluster_sandbox(tmp_path) as box:
        path = box.write(CLUSTER)
        up = box.chia("up", str(path), "-y")
        assert up.returncode == 0, up.stdout + up.stderr
        try:
            yield box, path
        finally:
            box.chia("down", str(path))


def _status(path: Path) -> dict[str, object]:
    try:
        return dict(json.loads(path.read_text()))
    except (FileNotFoundError, ValueError):
        return {}


def _received(events: Path) -> int:
    try:
        return events.read_bytes().count(b'"kind":"message_received"')
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("exchange", ["http", "redis", "push", "redis-fast"], indirect=True)
@pytest.mark.parametrize("launcher", ["local", "mpiexec", "ray"])
def test_a_killed_agent_comes_back_and_nothing_is_lost(
    request, sites, exchange, launcher, fault_table
):
    spec = load_campaign(CAMPAIGN).spec.policy
    assert isinstance(spec, BallsPolicy)
    total = spec.balls * spec.target
    rng = random.Random(zlib.crc32(request.node.name.encode()))
    kill_after = rng.randint(total // 20, total * 2 // 5)  # crux logs ~half of all messages
    run_id = f"kill-{launcher}-{exchange.kind}"
    common = ["--system", "local", "--campaign", CAMPAIGN, "--run-id", run_id, *exchange.args]
    crux_args = ["--site", "crux", "--agents", "agent-crux", "--launcher", launcher]
    env = None
    if launcher == "ray":
        box, cluster = request.getfixturevalue("ray_cluster")
        crux_args += ["--ray-address", str(cluster)]
        env = {"CHIA_CLUSTERS_DIR": str(box.state_dir)}
    crux = sites.start(*common, *crux_args, name="crux", env=env)
    aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="aurora")

    run = sites.runs_dir / run_id
    events = run / "crux" / "events" / "agent-crux.jsonl"
    status_path = run / "crux" / "status" / "agent-crux.json"
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while _received(events) < kill_after:
        assert crux.proc.poll() is None and aurora.proc.poll() is None, crux.output
        assert time.monotonic() < deadline, f"crux never logged {kill_after} messages"
        time.sleep(0.01)
    victim = _status(status_path)["pid"]
    assert isinstance(victim, int)
    killed_at = datetime.now(timezone.utc)
    os.kill(victim, signal.SIGKILL)

    assert crux.wait(RUN_TIMEOUT_S) == 0, crux.output
    assert aurora.wait(RUN_TIMEOUT_S) == 0, aurora.output
    assert "agent-crux (rank 0) died: " in crux.output and "restart 1/3" in crux.output
    figures = fault_table.record(
        f"SIGKILL crux after {kill_after} msgs", launcher, exchange.kind, run, killed_at=killed_at
    )
    assert figures.results == (BallsScriptedPolicy.expected_result(spec),), figures
    assert (figures.lost, figures.lost_ids) == (0, ()), figures
    assert (figures.duplicates_decided, figures.duplicate_ids) == (0, ()), figures
    assert figures.recovery_s is not None, figures
    final = _status(status_path)
    assert final["pid"] != victim and final["restarts"] == 1, final
    assert final["finish_reason"] == "completed", final
