from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chia.cluster.loading import parse_cluster
from chia.cluster.nodes import (
    alive_script,
    head_launch,
    ready_script,
    resource_args,
    stop_script,
    worker_launch,
)
from chia.cluster.plan import make_plan
from chia.processes import is_running

FILE = """\
cluster_name: n
provider: {head_ip: 127.0.0.1, temp_root: /tmp/x, ray_command: /opt/ray}
worker_ray_args: [--object-store-memory, "100000000"]
setup_commands: [echo all]
available_node_types:
  sim: {resources: {CPU: 2, GPU: 1, verilator: 2, half: 0.5}, setup_commands: [echo sim]}
"""


def test_resource_args():
    assert resource_args({"CPU": 2, "GPU": 1, "fpga": 1, "x": 0.5}) == [
        "--num-cpus",
        "2",
        "--num-gpus",
        "1",
        "--resources",
        '{"fpga":1,"x":0.5}',
    ]
    assert resource_args({"CPU": 0.0}) == ["--num-cpus", "0"]


def test_head_and_worker_commands():
    config = parse_cluster(FILE)
    plan = make_plan(config)
    head = head_launch(config, plan.head, 6380)
    assert head.main[:4] == ["/opt/ray", "start", "--head", "--block"]
    assert head.main[head.main.index("--port") + 1] == "6380"
    assert head.temp_dir == "/tmp/x/n/_head" and head.node_type is None
    assert head.env == {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": "/tmp/x/n/auth_token"}
    worker = worker_launch(config, plan.workers[0], "127.0.0.1:6380")
    assert worker.name == "sim-1" and worker.node_type == "sim"
    assert worker.main[worker.main.index("--address") + 1] == "127.0.0.1:6380"
    assert worker.main[-2:] == ["--object-store-memory", "100000000"]
    assert worker.setup == ["echo all", "echo sim"]
    ports = [worker.main[i + 1] for i, a in enumerate(worker.main) if a.endswith("-port")]
    assert len(set(ports)) == len(ports) == 4


def test_start_probe_and_stop_a_real_process(tmp_path):
    """The scripts work on a stand-in node: a sleeping session leader with a child."""
    temp = str(tmp_path / "node")
    config = parse_cluster(FILE)
    launch = worker_launch(config, make_plan(config).workers[0], "x:1")
    script = launch.start_script().replace(launch.temp_dir, temp)
    fake = f"sh -c 'echo Ray runtime started; sleep 60 & wait' {temp}"
    script = script.replace(script.splitlines()[-2].split(" > ")[0], f"setsid nohup {fake}")
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    pid = int(out.stdout.split()[-1])
    assert (Path(temp) / "setup.log").read_text() == "all\nsim\n"
    deadline = time.monotonic() + 5
    while (
        "READY"
        not in subprocess.run(
            ["sh", "-c", ready_script(temp, pid)], capture_output=True, text=True
        ).stdout
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert (
        subprocess.run(
            ["sh", "-c", alive_script(temp, pid)], capture_output=True, text=True
        ).stdout.strip()
        == "ALIVE"
    )
    assert (
        subprocess.run(
            ["sh", "-c", alive_script(temp + "-other", pid)], capture_output=True, text=True
        ).stdout.strip()
        == "GONE"
    )
    stopped = subprocess.run(
        ["sh", "-c", stop_script(pid, temp, grace_s=2)], capture_output=True, text=True
    )
    assert stopped.stdout.strip() == "STOPPED"
    time.sleep(0.2)
    gone = subprocess.run(["sh", "-c", alive_script(temp, pid)], capture_output=True, text=True)
    assert gone.stdout.strip() == "GONE"
    dead = subprocess.run(
        ["sh", "-c", ready_script(temp + "x", pid)], capture_output=True, text=True
    )
    assert dead.stdout.startswith("DEAD")


def test_stop_kills_leftovers_of_a_dead_leader_and_nothing_else(tmp_path):
    temp = str(tmp_path / "node")
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    orphan = subprocess.Popen([*argv, f"{temp}/session_1/raylet"], start_new_session=True)
    other = subprocess.Popen([*argv, f"{temp}-other/session_1/raylet"], start_new_session=True)
    try:
        out = subprocess.run(
            ["sh", "-c", stop_script(orphan.pid + 10**6, temp, grace_s=1)],
            capture_output=True,
            text=True,
        )
        assert out.stdout.strip() == "STOPPED"
        assert orphan.wait(timeout=5) == -9
        assert other.poll() is None
    finally:
        for proc in (orphan, other):
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_stop_kills_the_whole_group_of_a_leader_that_ignores_sigterm(tmp_path, shell):
    temp = str(tmp_path / "node")
    stubborn = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    child = f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {stubborn!r}])"
    leader = subprocess.Popen(
        [sys.executable, "-c", f"{child}; {stubborn}", temp], start_new_session=True
    )
    try:
        deadline = time.monotonic() + 5
        while len(members := _group(leader.pid)) < 2:  # the child is in the leader's group
            assert time.monotonic() < deadline
            time.sleep(0.05)
        out = subprocess.run(
            [shell, "-c", stop_script(leader.pid, temp, grace_s=0.3)],
            capture_output=True,
            text=True,
        )
        assert out.stdout.strip() == "STOPPED", out.stderr
        assert leader.wait(timeout=5) == -9
        deadline = time.monotonic() + 5
        while any(is_running(pid) for pid in members):
            assert time.monotonic() < deadline, "the leader's group outlived the stop"
            time.sleep(0.05)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()


def _group(pgid: int) -> list[int]:
    """Pids of the live processes in process group ``pgid``."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, ValueError):
            if os.getpgid(int(entry.name)) == pgid and is_running(int(entry.name)):
                found.append(int(entry.name))
    return found


def test_stop_does_not_wait_out_the_grace_for_a_leader_that_exited(tmp_path):
    temp = str(tmp_path / "node")
    # Exits on SIGTERM and stays a zombie: this test does not reap it until the end.
    leader = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(60)", temp], start_new_session=True
    )
    try:
        out = subprocess.run(
            ["sh", "-c", stop_script(leader.pid, temp, grace_s=60)],
            capture_output=True,
            text=True,
            timeout=20,  # far below the grace: the zombie must count as gone
        )
        assert out.stdout.strip() == "STOPPED"
    finally:
        leader.kill()
        assert leader.wait() == -signal.SIGTERM


def test_a_live_process_with_an_empty_command_line_is_still_starting(tmp_path):
    # A starting node shows an empty command line for an instant in each exec; a process
    # whose only argument is "" (python reading its script from a pipe) shows one always.
    temp = str(tmp_path / "node")
    proc = subprocess.Popen([""], executable=sys.executable, stdin=subprocess.PIPE)
    try:
        assert Path(f"/proc/{proc.pid}/cmdline").read_bytes().strip(b"\0") == b""
        probe = subprocess.run(
            ["sh", "-c", ready_script(temp, proc.pid)], capture_output=True, text=True
        )
        assert probe.stdout.strip() == "WAIT"
        alive = subprocess.run(
            ["sh", "-c", alive_script(temp, proc.pid)], capture_output=True, text=True
        )
        assert alive.stdout.strip() == "ALIVE"
    finally:
        proc.kill()
        proc.wait()
