"""``chia up``, ``chia down`` and ``chia cluster schema``: clusters from a YAML file."""

from __future__ import annotations

import logging
import sys
from enum import Enum
from pathlib import Path

import typer

from chia.cli._output import console, print_json
from chia.errors import ChiaUsageError

app = typer.Typer(help="Cluster files: schema and plans.", no_args_is_help=True)


class StrategyChoice(str, Enum):
    """Allocation strategies."""

    least_loaded = "least-loaded"
    pack = "pack"
    spread = "spread"


def _say(text: str) -> None:
    console.print(text, markup=False)


def _verbose_option() -> bool:
    return typer.Option(  # type: ignore[no-any-return]
        False, "-v", "--verbose", help="Log every command run on each machine (to stderr)."
    )


def _log_verbosely(verbose: bool) -> None:
    if verbose:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        logger = logging.getLogger("chia")
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)


def up(
    config_file: Path = typer.Argument(..., help="The cluster YAML file."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Start without asking."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print every command; start nothing."),
    add: bool = typer.Option(
        False, "--add", help="Add missing workers to the live cluster (no downtime)."
    ),
    strategy: StrategyChoice | None = typer.Option(
        None, "--strategy", help="Allocation strategy (default: the file's `allocation`)."
    ),
    timeout_s: float = typer.Option(180.0, "--timeout-s", min=1, help="Per-node join timeout."),
    verbose: bool = _verbose_option(),
) -> None:
    """Raise a cluster: the Ray head, then one Ray node per logical worker.

    Prints the plan (every command per machine) and asks before starting unless -y.
    """
    from chia.cluster import load_cluster
    from chia.cluster.lifecycle import cluster_up

    _log_verbosely(verbose)
    config = load_cluster(config_file)

    def confirm(_text: str) -> bool:
        return yes or typer.confirm("start this cluster?", default=False)

    result = cluster_up(
        config,
        config_file,
        add=add,
        dry_run=dry_run,
        strategy=strategy.value if strategy else None,
        confirm=confirm,
        say=_say,
        timeout_s=timeout_s,
    )
    if result.state is not None:
        _say(
            f"cluster {config.cluster_name} is up: ray address {result.state.head_address}; "
            f"started {len(result.started)} node(s), kept {len(result.kept)}"
        )


def down(
    config_file: Path = typer.Argument(..., help="The cluster YAML file."),
    grace_s: float = typer.Option(20.0, "--grace-s", min=0, help="SIGTERM-to-SIGKILL grace."),
    yes: bool = typer.Option(False, "-y", "--yes", help="Stop without asking."),
    verbose: bool = _verbose_option(),
    no_scoped: bool = typer.Option(
        False, "--no-scoped", help="Refused: `chia down` stops only this cluster's processes."
    ),
) -> None:
    """Stop this cluster's workers, then its head, tunnels and cloud machines.

    Asks first when run from a terminal, unless -y; a script (no terminal) is not asked.
    """
    from chia.cluster import load_cluster
    from chia.cluster.lifecycle import cluster_down
    from chia.cluster.state import ClusterState

    if no_scoped:
        raise ChiaUsageError(
            "--no-scoped (a host-wide `ray stop`) is not supported: `chia down` stops only "
            "this cluster's Ray processes. To stop every Ray process on a machine, run "
            "`ray stop` on it (`ray stop --force` to SIGKILL)."
        )
    _log_verbosely(verbose)
    config = load_cluster(config_file)
    state = ClusterState.load(config.cluster_name)
    if state is not None and not yes and sys.stdin.isatty():
        _say(f"cluster {config.cluster_name}: {', '.join(state.nodes)} will be stopped")
        if not typer.confirm("tear down this cluster?", default=False):
            _say("aborted; the cluster is still up")
            raise typer.Exit(1)
    cluster_down(config, say=_say, grace_s=grace_s)


@app.command()
def schema() -> None:
    """Print the JSON Schema of cluster files, for editors."""
    from chia.cluster import cluster_schema

    print_json(cluster_schema())


@app.command()
def plan(
    config_file: Path = typer.Argument(..., help="The cluster YAML file."),
    strategy: StrategyChoice | None = typer.Option(None, "--strategy", help="Allocation."),
) -> None:
    """Print where each logical worker would go (same as `chia up --dry-run`)."""
    from chia.cluster import load_cluster
    from chia.cluster.lifecycle import cluster_up

    config = load_cluster(config_file)
    cluster_up(
        config,
        config_file,
        dry_run=True,
        strategy=strategy.value if strategy else None,
        say=_say,
    )


def register(root: typer.Typer) -> None:
    """Attach ``up``, ``down`` and the ``cluster`` group."""
    root.command("up")(up)
    root.command("down")(down)
    root.add_typer(app, name="cluster")
