"""``chia replay``: re-run a recorded campaign offline from its recorded model calls."""

from __future__ import annotations

from pathlib import Path

import typer

from chia.cli._output import console
from chia.timeouts import PEER_TIMEOUT_S


def replay(
    run_dir: Path = typer.Argument(..., help="The recorded run: <runs>/<run-id>."),
    runs_dir: Path | None = typer.Option(
        None, "--runs-dir", help="Where the new run goes (default: next to the recorded one)."
    ),
    campaign: str | None = typer.Option(
        None,
        "--campaign",
        help="Run this copy of the campaign (e.g. with an edited prompt; it must be the "
        "same campaign) instead of the one the recording ran.",
    ),
    continue_live: str | None = typer.Option(
        None,
        "--continue-live",
        help="From the first divergence on, ask this real model (provider:model) instead "
        "of stopping there.",
    ),
    llm_base_url: str | None = typer.Option(
        None, "--llm-base-url", help="With --continue-live: the endpoint."
    ),
    llm_api_key_env: str | None = typer.Option(
        None, "--llm-api-key-env", help="With --continue-live: NAME of the key variable."
    ),
    timeout_s: float = typer.Option(
        PEER_TIMEOUT_S, "--timeout-s", min=1, help="Give up after this."
    ),
) -> None:
    """Re-run a recorded campaign on this machine, answering model calls from its records.

    Every site of the recorded run is spawned again under its own name, over a
    self-hosted loopback exchange, in a new run <run-id>-replay-<n>; no network and no
    API key are needed. The first model call whose prompt differs from the recording is
    reported (agent, round, a short diff) and stops that agent, unless --continue-live
    names a model to go on with. Exit 0 when the replay did what the recording did
    (messages, decisions, tool calls and results), or went on live from a divergence
    and every site finished; 1 otherwise; 2 for bad input.
    """
    code, _ = run_replay(
        run_dir,
        runs_dir=runs_dir,
        campaign=campaign,
        live=_live_flags(continue_live, llm_base_url, llm_api_key_env),
        timeout_s=timeout_s,
    )
    raise typer.Exit(code)


def _live_flags(model: str | None, base_url: str | None, key_env: str | None) -> list[str]:
    from chia.errors import ChiaUsageError

    if model is None:
        if base_url or key_env:
            raise ChiaUsageError("--llm-base-url and --llm-api-key-env need --continue-live")
        return []
    flags = ["--continue-live", model]
    flags += ["--llm-base-url", base_url] if base_url else []
    return flags + (["--llm-api-key-env", key_env] if key_env else [])


def run_replay(
    run_dir: Path,
    *,
    runs_dir: Path | None = None,
    campaign: str | None = None,
    live: list[str] | None = None,
    timeout_s: float = PEER_TIMEOUT_S,
) -> tuple[int, str]:
    """Run a replay, print where it went and whether it matched.

    Returns:
        The exit code and the new run's id: 0 when the replay matched the recording, or
        diverged and then finished live (``live`` flags given); 1 otherwise.
    """
    from chia.site.replay import replay_run

    def say(text: str) -> None:
        console.print(text, markup=False)

    outcome = replay_run(
        run_dir, runs_dir=runs_dir, campaign=campaign, live=live, timeout_s=timeout_s, say=say
    )
    say(f"\nreplayed run {outcome.run_id}: {outcome.run_dir}")
    for line in outcome.diverged:
        say(f"diverged: {line}")
    for line in outcome.differences:
        say(f"differs: {line}")
    failed = {site: code for site, code in outcome.site_codes.items() if code}
    if failed:
        say(f"site exit codes: {failed}")
    if outcome.matched:
        say(
            f"matched: every agent's messages, decisions, tool calls and results equal the "
            f"recording's ({outcome.compared} events compared)"
        )
        return 0, outcome.run_id
    if live and outcome.diverged and not failed:
        say("continued live from the divergence: every site finished")
        return 0, outcome.run_id
    say("did not match the recording")
    return 1, outcome.run_id


def register(app: typer.Typer) -> None:
    """Attach ``chia replay``."""
    app.command("replay")(replay)
