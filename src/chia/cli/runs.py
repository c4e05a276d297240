"""``chia runs``: inspect run directories from their files (read-only)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from chia.cli._output import console

if TYPE_CHECKING:
    from chia.events.runs import ModelUsage

app = typer.Typer(help="Inspect run directories (read-only).", no_args_is_help=True)

RUNS_DIR = typer.Option(Path("runs"), "--runs-dir", help="Root of the run directories.")


@app.command("list")
def list_runs(runs_dir: Path = RUNS_DIR) -> None:
    """List runs with their sites, agents and results."""
    from chia.events.runs import find_runs, summarize_run

    table = Table("run", "sites", "agents", "events", "model cost", "result", box=None)
    for path in find_runs(runs_dir):
        summary = summarize_run(path)
        results = {r for site in summary.sites for r in site.results}
        table.add_row(
            summary.run_id,
            ", ".join(site.site for site in summary.sites),
            str(summary.agents),
            str(sum(site.events for site in summary.sites)),
            summary.model_usage.cost_text(),
            "; ".join(sorted(results)) or "-",
        )
    console.print(table)


@app.command()
def show(run_id: str = typer.Argument(..., help="The run id."), runs_dir: Path = RUNS_DIR) -> None:
    """Show one run: per site, each agent's state, messages, model calls, cost and result.

    Costs are the sums of each model call's ``cost_usd`` (see docs/llm.md, "Cost"); calls
    of a model without a price are counted apart, never as free.
    """
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
            f"({site.cross_site_messages} cross-site), {_usage_text(site.model_usage)}"
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
        if site.usage:
            console.print(_usage_table(site.usage))
    console.print(f"[bold]total[/]: {_usage_text(summary.model_usage)}")


def _usage_table(usage: dict[str, ModelUsage]) -> Table:
    """One row per agent that called a model: calls, tokens and cost."""
    table = Table("agent", "model calls", "tokens in", "out", "cached", "cost", box=None)
    for agent, used in sorted(usage.items()):
        table.add_row(
            agent,
            str(used.calls),
            str(used.tokens_in),
            str(used.tokens_out),
            str(used.tokens_cached),
            used.cost_text(),
        )
    return table


def _usage_text(usage: ModelUsage) -> str:
    """``3 model calls, 1200/300 tokens, cost $0.001200`` (or ``no model calls``)."""
    if not usage.calls:
        return "no model calls"
    return (
        f"{usage.calls} model calls, {usage.tokens_in}/{usage.tokens_out} tokens "
        f"({usage.tokens_cached} cached), cost {usage.cost_text()}"
    )
