"""Entry point of the ``chia`` command: builds the typer app from the command modules it needs."""

from __future__ import annotations

import importlib
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


#: Every top-level command or group, in ``--help`` order, and the module of ``chia.cli``
#: that attaches it (with its ``register(app)``, or as the group named like the module).
COMMANDS: dict[str, str] = {
    "campaign": "campaign",
    "exchange": "exchange",
    "profile": "profile",
    "runs": "runs",
    "llm": "llm",
    "spawn-site": "site",
    "bootstrap": "site",
    "replay": "replay",
    "demo": "demo",
    "dashboard": "dashboard",
    "relay": "relay",
    "up": "cluster",
    "down": "cluster",
    "cluster": "cluster",
    "status": "ray_proxy",
    "list": "ray_proxy",
    "job": "ray_proxy",
    "ray": "ray_proxy",
    "kv": "kv",
    "viz-profile": "trace",
    "viz": "trace",
    "trace": "trace",
}

_attached: set[str] = set()


def _attach(module_name: str) -> None:
    if module_name in _attached:
        return
    module = importlib.import_module(f"chia.cli.{module_name}")
    register = getattr(module, "register", None)
    if register is not None:
        register(app)
    else:
        app.add_typer(module.app, name=module_name)
    _attached.add(module_name)


def build_app(command: str | None = None) -> typer.Typer:
    """The CLI with ``command``'s module attached, or every module if it is not one of ours.

    A command line needs only its own command's module: ``chia campaign validate`` does
    not import the cluster, dashboard or exchange commands (start-up time is most of a
    short command's time). ``--help``, no command or an unknown one attach them all.
    """
    module_name = COMMANDS.get(command or "")
    for name in [module_name] if module_name else dict.fromkeys(COMMANDS.values()):
        _attach(name)
    return app


def _command(argv: list[str]) -> str | None:
    """The top-level command a command line names (its first word that is not an option)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a ChiaError becomes one line on stderr and its exit code."""
    args = sys.argv[1:] if argv is None else argv
    cli = build_app(_command(args))
    try:
        cli(args=args, standalone_mode=True)
    except ChiaError as exc:
        Console(stderr=True, highlight=False).print(f"[bold red]error:[/] {exc}", soft_wrap=True)
        sys.exit(exc.exit_code)


if __name__ == "__main__":  # pragma: no cover
    main()
