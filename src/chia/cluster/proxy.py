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
from dataclasses import dataclass
from pathlib import Path

from chia.cluster.state import ClusterState, live_states
from chia.errors import ChiaUsageError

__all__ = [
    "JobStop",
    "asks_for_help",
    "names_address",
    "parse_job_stop",
    "ray_cli",
    "resolve_state",
    "run_ray",
    "run_ray_direct",
    "split_cluster_option",
    "stop_job",
]

CLUSTER_OPTION = "--chia-cluster"
# Options of `ray job stop` that take a value (so that value is not the submission id).
_STOP_VALUE_OPTIONS = {"--address", "--headers", "--log-style", "--log-color", "--verify"}


def _options_part(args: Sequence[str]) -> list[str]:
    """The arguments before a ``--`` (what follows it belongs to a job's entrypoint)."""
    args = list(args)
    return args[: args.index("--")] if "--" in args else args


def split_cluster_option(args: Sequence[str], given: Path | None) -> tuple[Path | None, list[str]]:
    """Take ``--chia-cluster PATH`` (or ``=PATH``) out of ``args``, wherever it comes.

    Scanning stops at ``--``: what follows is passed on verbatim.

    Args:
        args: The arguments after ``chia <command>``.
        given: The value already parsed before the Ray command (``chia job --chia-cluster
            X list``), or None.

    Returns:
        The cluster file (the last one given wins) and the remaining arguments.

    Raises:
        ChiaUsageError: If ``--chia-cluster`` has no value.
    """
    path, rest = given, []
    items = list(args)
    i = 0
    while i < len(items):
        arg = items[i]
        if arg == "--":
            rest.extend(items[i:])
            break
        if arg == CLUSTER_OPTION:
            if i + 1 >= len(items):
                raise ChiaUsageError(f"{CLUSTER_OPTION} needs a cluster file path")
            path = Path(items[i + 1])
            i += 2
            continue
        if arg.startswith(CLUSTER_OPTION + "="):
            path = Path(arg.split("=", 1)[1])
        else:
            rest.append(arg)
        i += 1
    return path, rest


def asks_for_help(args: Sequence[str]) -> bool:
    """True when ``-h``/``--help`` comes before any ``--``."""
    return any(a in ("-h", "--help") for a in _options_part(args))


def names_address(args: Sequence[str]) -> bool:
    """True when the arguments give Ray an ``--address`` of their own."""
    return any(a == "--address" or a.startswith("--address=") for a in _options_part(args))


@dataclass(frozen=True)
class JobStop:
    """``chia job stop`` arguments.

    Attributes:
        submission_id: The job to stop, or None when not given.
        grace_s: SIGTERM-to-SIGKILL grace for its tracked subprocesses.
        ray_args: What goes on to ``ray job stop`` (chia's own flags removed).
    """

    submission_id: str | None
    grace_s: float
    ray_args: list[str]


def parse_job_stop(args: Sequence[str], grace_s: float = 5.0) -> JobStop:
    """Parse the arguments after ``chia job stop``.

    ``--kill-tracked-pids`` is accepted and changes nothing (chia always kills the job's
    tracked subprocesses first); ``--grace-period N`` sets their grace.

    Raises:
        ChiaUsageError: If ``--grace-period`` lacks a non-negative number.
    """
    ray_args: list[str] = []
    submission_id: str | None = None
    items = list(args)
    i = 0
    while i < len(items):
        arg = items[i]
        if arg == "--kill-tracked-pids":
            i += 1
            continue
        if arg == "--grace-period" or arg.startswith("--grace-period="):
            if "=" in arg:
                raw = arg.split("=", 1)[1]
            elif i + 1 < len(items):
                raw, i = items[i + 1], i + 1
            else:
                raw = ""
            try:
                grace_s = float(raw)
            except ValueError:
                grace_s = -1.0
            if grace_s < 0:
                raise ChiaUsageError(f"--grace-period needs seconds (>= 0), got {raw!r}")
            i += 1
            continue
        ray_args.append(arg)
        if arg in _STOP_VALUE_OPTIONS and i + 1 < len(items):
            ray_args.append(items[i + 1])
            i += 1
        elif submission_id is None and not arg.startswith("-"):
            submission_id = arg
        i += 1
    return JobStop(submission_id, grace_s, ray_args)


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
        raise ChiaUsageError(
            "no live chia cluster: run `chia up cluster.yaml` first (or give Ray an --address)"
        )
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


def run_ray_direct(kind: str, args: Sequence[str]) -> int:
    """Run ``ray <kind> args`` as given (help, or an ``--address`` of the caller's own)."""
    argv = [ray_cli(), *args] if kind == "ray" else [ray_cli(), kind, *args]
    return subprocess.run(argv, check=False).returncode


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
