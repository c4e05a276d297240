"""``chia viz-profile`` and ``chia viz``: draw what a flow did, or what it would do."""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

import typer

from chia.errors import ChiaUsageError

__all__ = ["register", "viz", "viz_profile"]


class ProfileFormat(str, Enum):
    """Output of ``chia viz-profile``."""

    svg = "svg"
    dot = "dot"
    chrome = "chrome"
    table = "table"


class GraphFormat(str, Enum):
    """Output of ``chia viz``."""

    svg = "svg"
    dot = "dot"


def _emit(text: str, out: Path | None) -> None:
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


def viz_profile(
    log: Path = typer.Argument(..., help="The JSONL profile log written by the collector."),
    fmt: ProfileFormat = typer.Option(ProfileFormat.svg, "--format", "-f", help="Output."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here (default stdout)."),
    gap: float = typer.Option(60.0, "--gap", help="Seconds of idleness that split runs."),
    run: int = typer.Option(-1, "--run", help="Which run to draw (0 = first, -1 = last)."),
) -> None:
    """Draw a recorded profile: dependency graph, Chrome trace, or per-function CSV."""
    from chia.trace.chrome import chrome_trace
    from chia.trace.graph import profile_dot, render_svg
    from chia.trace.records import read_records, split_runs
    from chia.trace.table import exec_time_csv

    if gap <= 0:
        raise ChiaUsageError(f"--gap must be positive, got {gap}")
    runs = split_runs(read_records(log), gap)
    if not runs:
        raise ChiaUsageError(f"{log}: no records")
    if fmt is ProfileFormat.table:
        _emit(exec_time_csv(runs), out)
        return
    if not -len(runs) <= run < len(runs):
        raise ChiaUsageError(f"--run {run} is out of range: the log holds {len(runs)} run(s)")
    chosen = runs[run]
    if fmt is ProfileFormat.chrome:
        _emit(json.dumps(chrome_trace(chosen)), out)
        return
    dot = profile_dot(chosen, title=f"{log.name} run {run % len(runs)}")
    _emit(render_svg(dot) if fmt is ProfileFormat.svg else dot, out)


def viz(
    flow: Path = typer.Argument(..., help="A Python flow file (parsed, not run)."),
    function: str | None = typer.Option(
        None, "--function", help="Only what this function reaches."
    ),
    fmt: GraphFormat = typer.Option(GraphFormat.svg, "--format", "-f", help="Output."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write here (default stdout)."),
) -> None:
    """Draw the static graph of a flow file's @ChiaFunction calls without running it."""
    from chia.trace.graph import render_svg
    from chia.trace.static_graph import flow_dot, parse_flow

    graph = parse_flow(flow)
    if function is not None:
        graph = graph.restricted_to(function)
    dot = flow_dot(graph, title=flow.name if function is None else f"{flow.name}:{function}")
    _emit(render_svg(dot) if fmt is GraphFormat.svg else dot, out)


def register(app: typer.Typer) -> None:
    """Attach ``viz-profile`` and ``viz`` to the root app."""
    app.command("viz-profile")(viz_profile)
    app.command("viz")(viz)
