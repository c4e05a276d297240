from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import ray

from chia.base._proc import ProcessRef, is_alive, process_ref
from chia.base.ChiaFunction import ChiaFunction, chia_cancel, get
from chia.base.pid_registry import _get_registry

pytestmark = pytest.mark.timeout(90)


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def read_pids(path: Path) -> list[int]:
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(") ")[1][0] != "Z"
    except OSError:
        return False


@ChiaFunction(num_cpus=0.5, max_retries=0)
def blocked_on_child(pid_file: str) -> int:
    proc = subprocess.Popen(["sleep", "120"])
    Path(pid_file).write_text(str(proc.pid))
    return proc.wait()


@ChiaFunction(num_cpus=0.5, max_retries=0)
def session_tree(pid_file: str) -> int:
    # A new session whose shell starts grandchildren: only a process-group kill gets all.
    proc = subprocess.Popen(
        [
            "bash",
            "-c",
            f"sleep 120 & echo $! >> {pid_file}; sleep 120 & echo $! >> {pid_file}; wait",
        ],
        start_new_session=True,
    )
    with open(pid_file, "a") as handle:
        handle.write(f"{proc.pid}\n")
    return proc.wait()


@ChiaFunction(num_cpus=0.5, max_retries=0)
def leak_then_fail(pid_file: str) -> None:
    proc = subprocess.Popen(["sleep", "120"], start_new_session=True)
    Path(pid_file).write_text(str(proc.pid))
    raise RuntimeError("failed after spawning")


@ChiaFunction(num_cpus=0.5, max_retries=0)
def spawn_and_finish() -> int:
    return subprocess.run(["true"], check=True).returncode


def test_ray_cancel_alone_does_not_interrupt_a_task_blocked_on_a_child(
    ray_local: None, tmp_path: Path
) -> None:
    pid_file = tmp_path / "pid"
    ref = blocked_on_child.chia_remote(str(pid_file))
    wait_for(lambda: bool(read_pids(pid_file)))
    child = read_pids(pid_file)[0]
    registry = _get_registry(create=False)
    assert registry is not None
    assert ray.get(registry.tracked.remote())[ref.task_id().hex()] == [child]

    ray.cancel(ref)  # Ray alone: the task stays blocked in wait()
    ready, _ = ray.wait([ref], timeout=2.0)
    assert ready == [] and alive(child)

    chia_cancel(ref)  # kills the child on its node, then cancels
    with pytest.raises(ray.exceptions.TaskCancelledError):
        get(ref, timeout=20)
    assert not alive(child)
    assert ref.task_id().hex() not in ray.get(registry.tracked.remote())


def test_chia_cancel_kills_a_new_session_tree(ray_local: None, tmp_path: Path) -> None:
    pid_file = tmp_path / "pids"
    ref = session_tree.chia_remote(str(pid_file))
    wait_for(lambda: len(read_pids(pid_file)) == 3)
    pids = read_pids(pid_file)
    assert all(alive(p) for p in pids)
    chia_cancel(ref, grace=2.0)
    with pytest.raises((ray.exceptions.TaskCancelledError, ray.exceptions.RayTaskError)):
        get(ref, timeout=20)
    wait_for(lambda: not any(alive(p) for p in pids), timeout=5)


def test_children_are_killed_when_the_task_raises(ray_local: None, tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    with pytest.raises(RuntimeError, match="failed after spawning"):
        get(leak_then_fail.chia_remote(str(pid_file)))
    child = read_pids(pid_file)[0]
    wait_for(lambda: not alive(child), timeout=10)


def test_finished_children_are_forgotten(ray_local: None) -> None:
    ref = spawn_and_finish.chia_remote()
    assert get(ref) == 0
    registry = _get_registry()
    wait_for(lambda: ref.task_id().hex() not in ray.get(registry.tracked.remote()))


def test_chia_cancel_without_children_just_cancels(ray_local: None) -> None:
    @ChiaFunction(num_cpus=0.5, max_retries=0)
    def sleeper() -> None:
        for _ in range(1200):  # Python-level work: a cooperative cancel can land
            time.sleep(0.05)

    ref = sleeper.chia_remote()
    time.sleep(1.0)
    chia_cancel(ref)
    with pytest.raises(ray.exceptions.TaskCancelledError):
        get(ref, timeout=20)


def test_process_ref_detects_pid_reuse_and_exit() -> None:
    proc = subprocess.Popen(["sleep", "30"])
    ref = process_ref(proc.pid)
    assert is_alive(ref) and not ref.own_session
    assert not is_alive(ProcessRef(proc.pid, ref.start_time + 1, False))  # a different process
    proc.kill()
    proc.wait()
    assert not is_alive(ref)


DRIVER = textwrap.dedent(
    """
    import subprocess, sys, time
    import ray
    from chia.base.ChiaFunction import ChiaFunction, get

    @ChiaFunction(num_cpus=0.5, max_retries=0)
    def spawn(pid_file):
        proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
        open(pid_file, "w").write(str(proc.pid))
        return proc.wait()

    ray.init(address=sys.argv[1], log_to_driver=False)
    ref = spawn.chia_remote(sys.argv[2])
    get(ref)
    """
)


def test_driver_sigterm_kills_tracked_subprocesses(ray_local: None, tmp_path: Path) -> None:
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    pid_file = tmp_path / "pid"
    gcs = ray.get_runtime_context().gcs_address
    driver = subprocess.Popen([sys.executable, str(script), gcs, str(pid_file)])
    try:
        wait_for(lambda: bool(read_pids(pid_file)), timeout=40)
        child = read_pids(pid_file)[0]
        assert alive(child)
        driver.send_signal(signal.SIGTERM)
        assert driver.wait(timeout=30) != 0
        wait_for(lambda: not alive(child), timeout=10)
    finally:
        if driver.poll() is None:
            driver.kill()
        for pid in read_pids(pid_file):
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
