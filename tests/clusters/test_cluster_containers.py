"""Workers in containers: `chia up` runs the generated docker and apptainer command lines
(here through stand-in engines that record their argv and run the container's command on
the host), the workers join, and `chia down` stops the containers."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from chia.testing.clusters import cluster_sandbox

STAND_IN = '''#!{python}
"""Stand-in container engine: record argv, then run the command after the image."""
import json, os, sys
with open({record!r}, "a") as out:
    out.write(json.dumps(sys.argv) + "\\n")
args = sys.argv[1:]
if args[0] in ("run", "exec"):
    env = dict(os.environ)
    for flag, value in zip(args, args[1:]):
        if flag in ("-e", "--env"):
            key, _, val = value.partition("=")
            env[key] = val
    start = max(i for i, a in enumerate(args) if a == "/bin/sh" and args[i + 1] == "-c")
    os.execvpe(args[start], args[start:], env)
'''

CLUSTER = """
cluster_name: @NAME@
provider: {head_ip: 127.0.0.1, temp_root: @TEMP_ROOT@}
available_node_types:
  boxed:
    resources: {CPU: 1, boxed: 1}
    setup_commands: [echo inside > setup-marker]
    container:
      engine: docker
      image: example.org/chia-worker:1
      executable: ${DOCKER}
      ray_command: ${RAY}
      shm_size: 4g
      mounts: {/srv/data: /data}
      env: {MODEL_DIR: /data/models}
      run_options: [--gpus, all]
  hpc:
    resources: {CPU: 1, hpc: 1}
    container:
      engine: apptainer
      image: /images/worker.sif
      executable: ${APPTAINER}
      ray_command: ${RAY}
      mounts: {/scratch: /scratch}
"""


def _stand_in(tmp: Path, name: str) -> tuple[Path, Path]:
    record = tmp / f"{name}.argv"
    exe = tmp / name
    exe.write_text(
        STAND_IN.replace("{python}", sys.executable).replace("{record!r}", repr(str(record)))
    )
    exe.chmod(0o755)
    return exe, record


def _calls(record: Path) -> list[list[str]]:
    return [json.loads(line) for line in record.read_text().splitlines()]


@pytest.mark.slow
def test_workers_in_docker_and_apptainer(tmp_path, monkeypatch):
    docker, docker_calls = _stand_in(tmp_path, "docker")
    apptainer, apptainer_calls = _stand_in(tmp_path, "apptainer")
    ray = str(Path(sys.executable).parent / "ray")
    with cluster_sandbox(tmp_path) as box:
        path = box.write(CLUSTER)
        env = {"DOCKER": str(docker), "APPTAINER": str(apptainer), "RAY": ray}
        box.env_extra = env
        import os

        os.environ.update(env)
        try:
            up = box.chia("up", str(path), "-y")
            assert up.returncode == 0, up.stdout + up.stderr
            (run,) = _calls(docker_calls)
            name = f"chia-{box.name}-boxed-1"
            assert run[1:8] == ["run", "--rm", "--name", name, "--network", "host", "--shm-size"]
            assert run[8] == "4g"
            assert run[9:11] == ["-v", "/srv/data:/data"]
            assert "MODEL_DIR=/data/models" in run and "RAY_AUTH_MODE=token" in run
            image = run.index("example.org/chia-worker:1")
            assert run[image - 2 : image] == ["--gpus", "all"]
            assert run[image + 1 : image + 3] == ["/bin/sh", "-c"]
            assert run[image + 3].startswith("echo inside > setup-marker && exec ")
            assert "--resources '{\"boxed\":1}'" in run[image + 3]
            (exec_,) = _calls(apptainer_calls)
            assert exec_[1:3] == ["exec", "--cleanenv"]
            assert exec_[3:5] == ["--bind", "/scratch:/scratch"]
            assert exec_[exec_.index("/images/worker.sif") + 1] == "/bin/sh"
            assert (
                Path(box.temp_root, box.name, "boxed-1", "setup-marker").read_text() == "inside\n"
            )
            nodes = box.chia("list", "nodes")
            assert nodes.stdout.count("ALIVE") == 3, nodes.stdout + nodes.stderr
        finally:
            down = box.chia("down", str(path))
        assert down.returncode == 0, down.stderr
        assert _calls(docker_calls)[-1][1:] == ["stop", "--time", "10", name]
        assert box.processes() == {}
