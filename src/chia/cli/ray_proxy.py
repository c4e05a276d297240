"""``chia status``, ``chia list``, ``chia job`` and ``chia ray``: Ray's CLI on one cluster."""

from __future__ import annotations

from pathlib import Path

import typer

from chia.cli._output import console

_PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}
CLUSTER_HELP = "The cluster file (default: the only live cluster)."


def _cluster_option() -> Path | None:
    return typer.Option(None, "--chia-cluster", help=CLUSTER_HELP)  # type: ignore[no-any-return]


def status(ctx: typer.Context, chia_cluster: Path | None = _cluster_option()) -> None:
    """`ray status` for the cluster."""
    from chia.cluster.proxy import resolve_state, run_ray

    raise typer.Exit(run_ray("status", ctx.args, resolve_state(chia_cluster)))


def list_(ctx: typer.Context, chia_cluster: Path | None = _cluster_option()) -> None:
    """`ray list ...` (nodes, actors, tasks, jobs...) for the cluster."""
    from chia.cluster.proxy import resolve_state, run_ray

    raise typer.Exit(run_ray("list", ctx.args, resolve_state(chia_cluster)))


def job(ctx: typer.Context, chia_cluster: Path | None = _cluster_option()) -> None:
    """`ray job ...` for the cluster; `stop` first kills the job's tracked subprocesses."""
    from chia.cluster.proxy import resolve_state, run_ray, stop_job

    state = resolve_state(chia_cluster)
    args = list(ctx.args)
    if len(args) >= 2 and args[0] == "stop":
        killed = stop_job(state, args[1])
        console.print(f"killed {killed} tracked subprocess(es) of {args[1]}", markup=False)
    raise typer.Exit(run_ray("job", args, state))


def ray(ctx: typer.Context, chia_cluster: Path | None = _cluster_option()) -> None:
    """Any Ray CLI command, with RAY_ADDRESS and auth set for the cluster."""
    from chia.cluster.proxy import resolve_state, run_ray

    raise typer.Exit(run_ray("ray", ctx.args, resolve_state(chia_cluster)))


def register(app: typer.Typer) -> None:
    """Attach the Ray proxy commands."""
    app.command("status", context_settings=_PASSTHROUGH)(status)
    app.command("list", context_settings=_PASSTHROUGH)(list_)
    app.command("job", context_settings=_PASSTHROUGH)(job)
    app.command("ray", context_settings=_PASSTHROUGH)(ray)
