"""``chia runs``: inspect run directories from their files (read-only)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from chia.cli._output import console

app = typer.Typer(help="Inspect run directories (read-only).", no_args_is_help=True)

RUNS_DIR = typer.Option(Path("runs"), "--runs-dir", help="Root of the run directories.")


@app.command("list")
def list_runs(runs_dir: Path = RUNS_DIR) -> None:
    """List runs with their sites, agents and results."""
    from chia.events.runs import find_runs, summarize_run

    table = Table("run", "sites", "agents", "events", "result", box=None)
    for path in find_runs(runs_dir):
        summary = summarize_run(path)
        results = {r for site in summary.sites for r in site.results}
        table.add_row(
            summary.run_id,
            ", ".join(site.site for site in summary.sites),
            str(summary.agents),
            str(sum(site.events for site in summary.sites)),
            "; ".join(sorted(results)) or "-",
        )
    console.print(table)


@app.command()
def show(run_id: str = typer.Argument(..., help="The run id."), runs_dir: Path = RUNS_DIR) -> None:
    """Show one run: per site, each agent's state, decisions, messages and result."""
    from chia.errors import ChiaUsageError
    from chia.events.runs import find_runs, summarize_run
    from chia.names import check_name

    check_name(run_id, "run id")
    path = runs_dir / run_id
    if path not in find_runs(runs_dir):
        raise ChiaUsageError(f"no run {run_id!r} under {runs_dir}")
    summary = summarize_run(path)
    console.print(f"[bold]run[/] {summary.run_id}  ({summary.path})")
    for site in summary.sites:
        console.print(
            f"[bold]{site.site}[/]: {site.events} events, {site.messages} messages "
            f"({site.cross_site_messages} cross-site)"
            + (f", {site.bad_lines} unreadable lines" if site.bad_lines else "")
        )
        table = Table("agent", "state", "host", "decisions", "sent", "received", "result", box=None)
        for status in site.statuses.values():
            table.add_row(
                status.agent,
                status.state.value,
                status.host or "-",
                str(status.decisions),
                str(status.messages_sent),
                str(status.messages_received),
                status.result or status.last_error or "-",
            )
        console.print(table)
