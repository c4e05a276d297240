"""``chia viz-profile``, ``chia viz`` and ``chia trace export``: draw what ran, or would run."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path

import typer

from chia.errors import ChiaUsageError

__all__ = ["export", "register", "trace_app", "viz", "viz_profile"]


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


class TraceFormat(str, Enum):
    """Output of ``chia trace export``."""

    perfetto = "perfetto"


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


trace_app = typer.Typer(
    help="Export a run's merged timeline for trace viewers.", no_args_is_help=True
)


def _say_progress(phase: str, done: int, total: int) -> None:
    if phase == "scan":
        what = f"{done:,} events, sorted" if total else f"{done:,} events"
        typer.echo(f"scanned {what}", err=True)
    else:
        typer.echo(f"wrote {done:,} / {total:,} events ({100 * done // max(total, 1)}%)", err=True)


@trace_app.command("export")
def export(
    run: str = typer.Argument(..., help="A run directory, or a run id under --runs-dir."),
    fmt: TraceFormat = typer.Option(TraceFormat.perfetto, "--format", "-f", help="Output."),
    out: Path | None = typer.Option(
        None, "--out", "-o", help="Write here; '-' for stdout (default: <run>.perfetto.json)."
    ),
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help="Where run ids are found."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress on stderr."),
) -> None:
    """Write a run as a Chrome/Perfetto trace: a track per site and agent, messages as arrows."""
    from chia.trace.perfetto import write_perfetto
    from chia.trace.timeline import find_run_dir, scan_run

    assert fmt is TraceFormat.perfetto  # typer refuses any other value (exit 2)
    run_dir = find_run_dir(run, runs_dir)
    progress = None if quiet else _say_progress
    timeline = scan_run(run_dir, progress)
    torn = [str(s.path) for s in timeline.sources if s.torn_tail]
    if torn and not quiet:
        typer.echo(f"left out an incomplete last line (still being written?): {torn}", err=True)
    if out == Path("-"):
        stats = write_perfetto(timeline, sys.stdout.buffer.write, progress)
        sys.stdout.buffer.flush()
        target = "stdout"
    else:
        path = out or Path(f"{run_dir.resolve().name}.perfetto.json")
        part = path.with_name(path.name + ".part")
        try:
            with part.open("wb") as handle:
                stats = write_perfetto(timeline, handle.write, progress)
            part.replace(path)
        finally:
            part.unlink(missing_ok=True)
        target = f"{path} ({path.stat().st_size / 1e6:,.1f} MB)"
    if not quiet:
        typer.echo(
            f"wrote {target}: {stats.events:,} events on {sum(map(len, stats.tracks.values()))} "
            f"tracks in {len(stats.tracks)} sites, {stats.slices:,} slices, {stats.flows:,} "
            f"message arrows, {stats.skew_adjusted:,} receipts moved after their send "
            "(clock skew); open it in ui.perfetto.dev",
            err=True,
        )


def register(app: typer.Typer) -> None:
    """Attach ``viz-profile``, ``viz`` and the ``trace`` group to the root app."""
    app.command("viz-profile")(viz_profile)
    app.command("viz")(viz)
    app.add_typer(trace_app, name="trace")
