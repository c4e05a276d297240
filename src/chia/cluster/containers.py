"""Wrap a logical worker's commands in a docker or apptainer container.

Both engines share the host's network (Ray nodes must reach each other directly) and get
the worker's mounts and environment. The container's main process is the worker's
``ray start --block``, so stopping the container stops the node; setup commands run
inside it first. See ``docs/clusters.md`` for a run with a real engine.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from chia.cluster.config import Container

__all__ = ["container_name", "run_argv", "stop_argv"]


def container_name(cluster: str, worker: str) -> str:
    """The container's name: unique per cluster and worker, so ``down`` can find it."""
    return f"chia-{cluster}-{worker}"


def _inner(setup: Sequence[str], command: Sequence[str]) -> list[str]:
    script = " && ".join([*setup, "exec " + shlex.join(command)])
    return ["/bin/sh", "-c", script]


def run_argv(
    container: Container,
    name: str,
    command: Sequence[str],
    setup: Sequence[str] = (),
    env: dict[str, str] | None = None,
    mounts: dict[str, str] | None = None,
) -> list[str]:
    """The engine command line that runs ``setup`` then ``command`` in the container.

    Args:
        container: The worker type's container settings.
        name: The container (docker) or instance label (apptainer) name.
        command: The worker's main command (``ray start --block ...``).
        setup: Shell commands run inside the container first.
        env: Extra environment, after the container's own ``env``.
        mounts: Extra ``host: container`` mounts (the node's temp dir, for its token).
    """
    engine = container.executable or container.engine
    variables = {**container.env, **(env or {})}
    binds = {**container.mounts, **(mounts or {})}
    if container.engine == "docker":
        argv = [engine, "run", "--rm", "--name", name, "--network", "host"]
        argv += ["--shm-size", container.shm_size]
        for host_path, inside in binds.items():
            argv += ["-v", f"{host_path}:{inside}"]
        for key, value in variables.items():
            argv += ["-e", f"{key}={value}"]
        return [*argv, *container.run_options, container.image, *_inner(setup, command)]
    # apptainer shares the host network and /dev/shm by default; --containall would not.
    argv = [engine, "exec", "--cleanenv"]
    for host_path, inside in binds.items():
        argv += ["--bind", f"{host_path}:{inside}"]
    for key, value in variables.items():
        argv += ["--env", f"{key}={value}"]
    return [*argv, *container.run_options, container.image, *_inner(setup, command)]


def stop_argv(container: Container, name: str) -> list[str] | None:
    """The command that stops the worker's container, or None if killing its process does."""
    if container.engine == "docker":
        return [container.executable or "docker", "stop", "--time", "10", name]
    return None
