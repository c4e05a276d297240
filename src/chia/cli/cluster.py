"""``chia up``, ``chia down`` and ``chia cluster schema``: clusters from a YAML file."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from chia.cli._output import console, print_json

app = typer.Typer(help="Cluster files: schema and plans.", no_args_is_help=True)


class StrategyChoice(str, Enum):
    """Allocation strategies."""

    least_loaded = "least-loaded"
    pack = "pack"
    spread = "spread"


def _say(text: str) -> None:
    console.print(text, markup=False)


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
) -> None:
    """Raise a cluster: the Ray head, then one Ray node per logical worker.

    Prints the plan (every command per machine) and asks before starting unless -y.
    """
    from chia.cluster import load_cluster
    from chia.cluster.lifecycle import cluster_up

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
) -> None:
    """Stop this cluster's workers, then its head, tunnels and cloud machines."""
    from chia.cluster import load_cluster
    from chia.cluster.lifecycle import cluster_down

    cluster_down(load_cluster(config_file), say=_say, grace_s=grace_s)


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
