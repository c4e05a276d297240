"""Ray's CLI pinned to one chia cluster: ``chia status``, ``list``, ``job``, ``ray``.

The cluster is the one a cluster file names (``--chia-cluster PATH``) or, without it, the
only live one. Each command runs Ray's own CLI with that cluster's address (GCS for
``status``, the dashboard for ``list`` and ``job``) and its auth settings, so no Ray
command ever reaches another Ray instance on the machine by accident.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from chia.cluster.state import ClusterState, live_states
from chia.errors import ChiaUsageError

__all__ = ["ray_cli", "resolve_state", "run_ray", "stop_job"]


def resolve_state(path: Path | None) -> ClusterState:
    """The live cluster named by ``path``'s file, or the only live cluster.

    Raises:
        ChiaUsageError: If that cluster is not up, none is, or several are and no file
            says which.
    """
    if path is not None:
        from chia.cluster.loading import load_cluster

        name = load_cluster(path).cluster_name
        state = ClusterState.load(name)
        if state is None:
            raise ChiaUsageError(f"cluster {name!r} ({path}) is not up: run `chia up {path}`")
        return state
    states = live_states()
    if not states:
        raise ChiaUsageError("no live chia cluster: run `chia up cluster.yaml` first")
    if len(states) > 1:
        names = ", ".join(s.cluster_name for s in states)
        raise ChiaUsageError(f"several live clusters ({names}): pass --chia-cluster PATH")
    return states[0]


def ray_cli() -> str:
    """Ray's CLI beside our Python (else ``ray`` on PATH)."""
    beside = Path(sys.executable).parent / "ray"
    return str(beside) if beside.exists() else "ray"


def _dashboard(state: ClusterState) -> str:
    if state.dashboard_url is None:
        raise ChiaUsageError(f"cluster {state.cluster_name!r} has no dashboard address")
    return state.dashboard_url


def ray_argv(kind: str, args: Sequence[str], state: ClusterState) -> list[str]:
    """The Ray CLI command line for ``chia <kind> args``."""
    ray = ray_cli()
    if kind == "status":
        return [ray, "status", "--address", state.head_address, *args]
    if kind in ("list", "summary", "get"):
        if not args:
            raise ChiaUsageError(f"chia {kind} needs what to show, e.g. `chia {kind} nodes`")
        return [ray, kind, args[0], "--address", _dashboard(state), *args[1:]]
    if kind == "job":
        if not args:
            raise ChiaUsageError("chia job needs a subcommand: submit, list, status, logs, stop")
        return [ray, "job", args[0], "--address", _dashboard(state), *args[1:]]
    return [ray, *args]


def run_ray(kind: str, args: Sequence[str], state: ClusterState) -> int:
    """Run the Ray CLI against the cluster; return its exit code."""
    env = {**os.environ, **state.client_env}
    return subprocess.run(ray_argv(kind, args, state), env=env, check=False).returncode


def stop_job(state: ClusterState, submission_id: str, grace_s: float = 5.0) -> int:
    """Kill the job's tracked subprocesses on every node, then stop the job.

    Ray's own stop cannot interrupt a task blocked on a child process; the PID registry
    knows those children and where they run.

    Returns:
        The number of subprocesses killed.
    """
    os.environ.update(state.client_env)  # before Ray reads its auth settings
    import ray
    from ray.job_submission import JobSubmissionClient

    from chia.base.pid_registry import kill_all

    info = JobSubmissionClient(_dashboard(state)).get_job_info(submission_id)
    killed = 0
    if info.job_id is not None:
        ray.init(address=state.head_address, log_to_driver=False, logging_level=logging.ERROR)
        try:
            killed = kill_all(grace=grace_s, job_id=info.job_id)
        finally:
            ray.shutdown()
    return killed
