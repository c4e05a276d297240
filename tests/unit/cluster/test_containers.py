from __future__ import annotations

from chia.cluster.config import Container
from chia.cluster.containers import container_name, run_argv, stop_argv


def test_docker_run_line():
    box = Container(
        image="img:1", mounts={"/h": "/c"}, env={"A": "1"}, run_options=["--gpus", "all"]
    )
    argv = run_argv(box, "chia-c-w-1", ["ray", "start", "--block"], ["pip install x"], {"B": "2"})
    assert argv == [
        "docker",
        "run",
        "--rm",
        "--name",
        "chia-c-w-1",
        "--network",
        "host",
        "--shm-size",
        "2g",
        "-v",
        "/h:/c",
        "-e",
        "A=1",
        "-e",
        "B=2",
        "--gpus",
        "all",
        "img:1",
        "/bin/sh",
        "-c",
        "pip install x && exec ray start --block",
    ]
    assert stop_argv(box, "chia-c-w-1") == ["docker", "stop", "--time", "10", "chia-c-w-1"]


def test_apptainer_exec_line():
    box = Container(engine="apptainer", image="w.sif", executable="/opt/apptainer")
    argv = run_argv(box, "n", ["ray", "start"], env={"K": "v"}, mounts={"/t": "/t"})
    assert argv == [
        "/opt/apptainer",
        "exec",
        "--cleanenv",
        "--bind",
        "/t:/t",
        "--env",
        "K=v",
        "w.sif",
        "/bin/sh",
        "-c",
        "exec ray start",
    ]
    assert stop_argv(box, "n") is None


def test_container_name():
    assert container_name("lab", "sim-2") == "chia-lab-sim-2"
