"""``chia status``, ``chia list``, ``chia job`` and ``chia ray``: Ray's CLI on one cluster.

``--chia-cluster PATH`` may come before or after the Ray command, up to a ``--``; what
follows ``--`` (a job's entrypoint) is passed on verbatim.
"""

from __future__ import annotations

from pathlib import Path

import typer

from chia.cli._output import console

_PASSTHROUGH = {
    "allow_extra_args": True,
    "ignore_unknown_options": True,
    # Stop parsing at the first Ray argument, so `--` reaches Ray; `--help` is Ray's too.
    "allow_interspersed_args": False,
    "help_option_names": [],
}
CLUSTER_HELP = "The cluster file (default: the only live cluster); also accepted after the command."
STOP_HELP = (
    "chia job stop SUBMISSION_ID [--grace-period SECONDS] [--kill-tracked-pids]: kills the "
    "job's tracked subprocesses (always; --kill-tracked-pids is accepted for CHIA scripts), "
    "then runs `ray job stop`. Ray's options follow:"
)


def _cluster_option() -> Path | None:
    return typer.Option(None, "--chia-cluster", help=CLUSTER_HELP)  # type: ignore[no-any-return]


def _help(kind: str) -> str:
    what = "Ray's CLI" if kind == "ray" else f"`ray {kind}`"
    return (
        f"chia {kind}: {what} on a chia cluster. chia's option: --chia-cluster PATH "
        f"({CLUSTER_HELP}) Ray's help follows:"
    )


def _plain_ray(kind: str) -> bool:
    """`chia ray ...` with no chia cluster up is plain Ray (e.g. `chia ray start --head`)."""
    from chia.cluster.state import live_states

    return kind == "ray" and not live_states()


def _proxy(kind: str, ctx: typer.Context, chia_cluster: Path | None) -> None:
    from chia.cluster.proxy import (
        asks_for_help,
        names_address,
        parse_job_stop,
        resolve_state,
        run_ray,
        run_ray_direct,
        split_cluster_option,
        stop_job,
    )

    path, args = split_cluster_option(ctx.args, chia_cluster)
    stopping = kind == "job" and args[:1] == ["stop"]
    stop = parse_job_stop(args[1:]) if stopping else None
    if stop is not None:
        args = ["stop", *stop.ray_args]
    if path is None and (asks_for_help(args) or names_address(args) or _plain_ray(kind)):
        if asks_for_help(args):
            console.print(STOP_HELP if stop is not None else _help(kind), markup=False)
        raise typer.Exit(run_ray_direct(kind, args))
    state = resolve_state(path)
    if stop is not None and stop.submission_id is not None:
        killed = stop_job(state, stop.submission_id, grace_s=stop.grace_s)
        console.print(
            f"killed {killed} tracked subprocess(es) of {stop.submission_id}", markup=False
        )
    raise typer.Exit(run_ray(kind, args, state))


def status(ctx: typer.Context, chia_cluster: Path | None = _cluster_option()) -> None:
    """`ray status` for the cluster."""
    _proxy("status", ctx, chia_cluster)


def list_(ctx: typer.Context, chia_cluster: Path | None = _cluster_option()) -> None:
    """`ray list ...` (nodes, actors, tasks, jobs...) for the cluster."""
    _proxy("list", ctx, chia_cluster)


def job(ctx: typer.Context, chia_cluster: Path | None = _cluster_option()) -> None:
    """`ray job ...` for the cluster; `stop` first kills the job's tracked subprocesses.

    `chia job stop ID --grace-period N` gives them N seconds between SIGTERM and SIGKILL.
    """
    _proxy("job", ctx, chia_cluster)


def ray(ctx: typer.Context, chia_cluster: Path | None = _cluster_option()) -> None:
    """Any Ray CLI command, with RAY_ADDRESS and auth set for the cluster."""
    _proxy("ray", ctx, chia_cluster)


def register(app: typer.Typer) -> None:
    """Attach the Ray proxy commands."""
    app.command("status", context_settings=_PASSTHROUGH)(status)
    app.command("list", context_settings=_PASSTHROUGH)(list_)
    app.command("job", context_settings=_PASSTHROUGH)(job)
    app.command("ray", context_settings=_PASSTHROUGH)(ray)
