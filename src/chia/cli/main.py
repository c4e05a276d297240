"""Entry point of the ``chia`` command: builds the typer app from the command modules."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from chia import __version__
from chia.errors import ChiaError

app = typer.Typer(
    name="chia",
    help="Run federated campaigns of LLM agents and Python tasks across HPC sites.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chia {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Run federated campaigns of LLM agents and Python tasks across HPC sites."""


def _register() -> None:
    """Attach every command group. Imports stay inside the group modules' commands."""
    from chia.cli import campaign, dashboard, demo, exchange, profile, runs, site

    app.add_typer(campaign.app, name="campaign")
    app.add_typer(exchange.app, name="exchange")
    app.add_typer(profile.app, name="profile")
    app.add_typer(runs.app, name="runs")
    from chia.cli import llm

    app.add_typer(llm.app, name="llm")
    site.register(app)
    from chia.cli import replay

    replay.register(app)
    demo.register(app)
    dashboard.register(app)
    from chia.cli import relay

    app.add_typer(relay.app, name="relay")
    from chia.cli import cluster, ray_proxy

    cluster.register(app)
    ray_proxy.register(app)
    from chia.cli import kv, trace

    app.add_typer(kv.app, name="kv")
    trace.register(app)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a ChiaError becomes one line on stderr and its exit code."""
    try:
        app(args=argv, standalone_mode=True)
    except ChiaError as exc:
        Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
