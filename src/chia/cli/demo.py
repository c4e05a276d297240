"""``chia demo``: the two-site federated-chat campaign on this machine."""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from chia.cli._output import console


class DemoExchangeChoice(str, Enum):
    """Exchanges ``chia demo`` can embed."""

    push = "push"
    http = "http"


def demo(
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help="Where run directories go."),
    run_id: str | None = typer.Option(None, "--run-id", help="Run id (default: demo-<time>)."),
    timeout_s: float = typer.Option(300.0, "--timeout-s", min=1, help="Give up after this."),
    dashboard: bool | None = typer.Option(
        None,
        "--dashboard/--no-dashboard",
        help="Serve the run's dashboard at the end until Ctrl-C (default: only when run "
        "from a terminal; --no-dashboard for scripts and CI).",
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="Play on a real model, provider:model (e.g. openai:gpt-5-mini); "
        "stays offline, and says so, when its API key is not set.",
    ),
    exchange: DemoExchangeChoice = typer.Option(
        DemoExchangeChoice.push,
        "--exchange",
        help="The embedded exchange: push (chia's, one WebSocket per client) or http "
        "(Academy's self-hosted HTTP exchange).",
    ),
    replay: bool = typer.Option(
        False,
        "--replay",
        help="Replay a recorded demo run instead (RUN_DIR; default: the newest demo run "
        "under --runs-dir), answering its model calls from their records, offline; "
        "see chia replay.",
    ),
    replay_dir: Path | None = typer.Argument(
        None, metavar="RUN_DIR", help="With --replay: the demo run to replay."
    ),
) -> None:
    """Run federated-chat across two local sites (aurora, crux) and summarize it.

    Starts a self-hosted exchange (push by default) on a free loopback port, spawns both
    sites, sends the kickoff, waits for the campaign to finish, prints a per-site summary
    and the run directory, and stops everything; then serves the dashboard of the run
    until Ctrl-C.
    Needs no network and no API key. Ctrl-C, SIGTERM or SIGHUP during the run stops
    every process it started and exits 1.
    """
    import sys

    from chia.cli._signals import exit_on_stop_signal
    from chia.names import check_name
    from chia.site.demo import run_demo

    if run_id is not None:
        check_name(run_id, "run id")

    def say(text: str) -> None:
        console.print(text, markup=False)

    if replay or replay_dir is not None:
        code, run = _replay(replay, replay_dir, runs_dir, run_id, model, timeout_s)
    else:
        # A signal mid-run unwinds run_demo, which stops the sites, then the exchange.
        with exit_on_stop_signal("demo", "stopped its sites and its exchange"):
            code, run = run_demo(
                runs_dir,
                run_id=run_id,
                timeout_s=timeout_s,
                model=model,
                exchange=exchange.value,
                say=say,
            )
    if dashboard if dashboard is not None else sys.stdout.isatty():
        from chia.dashboard import serve_in_foreground

        serve_in_foreground(runs_dir.expanduser().resolve(), run, say=say)
    raise typer.Exit(code)


def _replay(
    replay: bool,
    replay_dir: Path | None,
    runs_dir: Path,
    run_id: str | None,
    model: str | None,
    timeout_s: float,
) -> tuple[int, str]:
    """``chia demo --replay [RUN_DIR]``: replay a demo run (see ``chia replay``)."""
    from chia.cli._signals import exit_on_stop_signal
    from chia.cli.replay import run_replay
    from chia.errors import ChiaUsageError
    from chia.site.replay import newest_run

    if not replay:
        raise ChiaUsageError(f"{replay_dir}: a run directory is for --replay")
    if run_id is not None or model is not None:
        raise ChiaUsageError(
            "--run-id and --model do not apply to --replay (the recording answers; the "
            "replay is named <run>-replay-<n>)"
        )
    root = runs_dir.expanduser().resolve()
    source = replay_dir or newest_run(root, "demo-")
    with exit_on_stop_signal("demo", "stopped the replay's sites and its exchange"):
        return run_replay(source, runs_dir=root, timeout_s=timeout_s)


def register(app: typer.Typer) -> None:
    """Attach ``chia demo``."""
    app.command("demo")(demo)
