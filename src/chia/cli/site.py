"""``chia spawn-site`` and ``chia bootstrap``: launch one site, kick a campaign off."""

from __future__ import annotations

from pathlib import Path

import typer

from chia.cli._options import EXCHANGE_HELP, URL_HELP, ExchangeChoice, FsyncChoice, LauncherChoice
from chia.cli._output import console
from chia.timeouts import PEER_TIMEOUT_S


def spawn_site(
    system: str = typer.Option(..., "--system", help="System profile name or JSON file."),
    campaign: str = typer.Option(..., "--campaign", help="Campaign file, dir or packaged name."),
    agents: str = typer.Option(..., "--agents", help="This site's slice: agent names, a,b."),
    run_id: str | None = typer.Option(
        None, "--run-id", help="Run id shared by every site (default: the campaign's)."
    ),
    site: str | None = typer.Option(None, "--site", help="Site name (default: the profile's)."),
    exchange: ExchangeChoice | None = typer.Option(None, "--exchange", help=EXCHANGE_HELP),
    exchange_url: str | None = typer.Option(None, "--exchange-url", help=URL_HELP),
    launcher: LauncherChoice | None = typer.Option(
        None,
        "--launcher",
        help="local (subprocesses), mpiexec (one rank per agent) or ray (one actor per "
        "agent on --ray-address); default: the profile's.",
    ),
    runs_dir: Path | None = typer.Option(
        None, "--runs-dir", help="Root of run directories (default: the profile's run_root)."
    ),
    startup_timeout_s: float = typer.Option(
        PEER_TIMEOUT_S, "--startup-timeout-s", min=0.1, help="How long to wait for peers to answer."
    ),
    no_bootstrap: bool = typer.Option(
        False, "--no-bootstrap", help="Do not send the kickoff here; `chia bootstrap` will."
    ),
    agents_per_process: int = typer.Option(
        1, "--agents-per-process", min=1, help="Host this many agents per process (rank)."
    ),
    model: str | None = typer.Option(
        None,
        "--model",
        help="Override the campaign's model: provider:model (e.g. openai:gpt-5-mini).",
    ),
    llm_base_url: str | None = typer.Option(
        None, "--llm-base-url", help="With --model: the endpoint (default: the provider's)."
    ),
    llm_api_key_env: str | None = typer.Option(
        None,
        "--llm-api-key-env",
        help="With --model: NAME of the variable holding the key (default: the provider's).",
    ),
    ray_address: str | None = typer.Option(
        None, "--ray-address", help="Ray cluster for --launcher ray: host:port or cluster YAML."
    ),
    ray_resources: str | None = typer.Option(
        None,
        "--ray-resources",
        help='Ray resources per agent, JSON: {"agent-a": {"fpga": 1}, "*": {"CPU": 0}}.',
    ),
    max_restarts: int = typer.Option(
        3,
        "--max-restarts",
        min=0,
        help="Restart a dead agent process (signal or exit code 1) this many times, with "
        "backoff, before giving up on it; 0 never restarts.",
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Rejoin a run whose site dir already holds events (same --run-id and "
        "--runs-dir, e.g. after the whole site was killed): agents rebuild their state "
        "from their events files. Without it such a dir is refused.",
    ),
    fsync: FsyncChoice = typer.Option(
        FsyncChoice.batch,
        "--fsync",
        help="Fsync each receive event before acknowledging its message: batch (one "
        "fsync shared by the messages that arrived together), message (one each), or none "
        "(acknowledged once written: survives a killed process, not a lost machine; for a "
        "run dir on tmpfs).",
    ),
    replay: Path | None = typer.Option(
        None,
        "--replay",
        help="Answer every model call from the records of this earlier run of the same "
        "campaign (<runs>/<run-id>): no network, no key. The first call whose prompt "
        "differs stops its agent (exit 1, naming agent and round) unless --continue-live.",
    ),
    continue_live: str | None = typer.Option(
        None,
        "--continue-live",
        help="With --replay: from the first divergence on, ask this model "
        "(provider:model; --llm-base-url/--llm-api-key-env apply to it).",
    ),
    prices: Path | None = typer.Option(
        None,
        "--prices",
        help="Model prices (JSON or YAML: {prices: {provider: {model: {input, output, "
        "cached_input}}}}, USD per million tokens) over the campaign's and $CHIA_PRICES.",
    ),
) -> None:
    """Launch one site's slice of a campaign and wait until every agent of it stops.

    Writes <runs>/<run-id>/<site>/launch.json, starts one host process per agent,
    restarts an agent process that dies (up to --max-restarts), prints a landmark line
    per step, and exits 0 when every agent finished the campaign (by default: completed;
    see the campaign's limits.success), 1 if one gave up after its restarts, stopped
    before the campaign completed or the site was interrupted, 2 if peers never answered
    or the site dir already holds events and --resume was not given. Ctrl-C or SIGTERM
    stops every process it started.
    """
    from chia.site.spawn import SpawnRequest
    from chia.site.spawn import spawn_site as run

    code = run(
        SpawnRequest(
            system=system,
            campaign=campaign,
            agents=agents,
            run_id=run_id,
            site=site,
            exchange=exchange.value if exchange else None,
            exchange_url=exchange_url,
            launcher=launcher.value if launcher else None,
            runs_dir=runs_dir,
            startup_timeout_s=startup_timeout_s,
            bootstrap=not no_bootstrap,
            agents_per_process=agents_per_process,
            model=model,
            llm_base_url=llm_base_url,
            llm_api_key_env=llm_api_key_env,
            ray_address=ray_address,
            ray_resources=_ray_resources(ray_resources),
            max_restarts=max_restarts,
            resume=resume,
            fsync=fsync.value,
            replay=replay,
            continue_live=continue_live,
            prices=prices,
        ),
        say=lambda text: console.print(text, markup=False),
    )
    raise typer.Exit(code)


def _ray_resources(text: str | None) -> dict[str, dict[str, float]] | None:
    import json

    from chia.errors import ChiaUsageError

    if text is None:
        return None
    try:
        value = json.loads(text)
        return {str(a): {str(k): float(v) for k, v in r.items()} for a, r in value.items()}
    except (ValueError, AttributeError, TypeError) as exc:
        raise ChiaUsageError(
            f"--ray-resources: expected {{agent: {{resource: amount}}}}: {exc}"
        ) from None


def bootstrap(
    run_id: str = typer.Option(..., "--run-id", help="The run id the sites were spawned with."),
    campaign: str = typer.Option(..., "--campaign", help="Campaign file, dir or packaged name."),
    recipient: str | None = typer.Option(
        None, "--recipient", help="Agent to kick off (default: the campaign's initial agent)."
    ),
    exchange: ExchangeChoice = typer.Option(ExchangeChoice.http, "--exchange", help=EXCHANGE_HELP),
    exchange_url: str | None = typer.Option(None, "--exchange-url", help=URL_HELP),
    timeout_s: float = typer.Option(
        PEER_TIMEOUT_S, "--timeout-s", min=0.1, help="How long to wait for the recipient to answer."
    ),
) -> None:
    """Send the campaign's kickoff once the recipient answers a ping, then return.

    Exit 0 once sent; exit 2 if the recipient never answered (the message names it);
    exit 1 on Ctrl-C, SIGTERM or SIGHUP (it starts no process, so none is left).
    """
    from chia.campaign import load_campaign
    from chia.cli._signals import exit_on_stop_signal
    from chia.errors import ChiaUsageError
    from chia.interrupts import run_interruptible
    from chia.names import check_name
    from chia.site.bootstrap import bootstrap as send
    from chia.site.spawn import exchange_settings

    check_name(run_id, "run id")
    loaded = load_campaign(campaign)
    target = recipient or loaded.spec.initial_agent
    if target not in loaded.spec.agent_names:
        raise ChiaUsageError(f"recipient {target!r} is not an agent of {loaded.spec.name!r}")
    settings = exchange_settings(exchange.value, exchange_url, run_id=run_id)
    console.print(f"waiting for {target} (run {run_id}) to answer on the {settings.kind} exchange")
    with exit_on_stop_signal("bootstrap", f"stopped waiting for {target}"):
        envelope = run_interruptible(
            send(
                settings,
                loaded.spec,
                run_id=run_id,
                recipient=target,
                timeout_s=timeout_s,
                on_up=lambda name: console.print(f"{name} answered"),
            )
        )
    console.print(f"sent kickoff {envelope.message_id} to {target}:", markup=False)
    console.print(envelope.content, markup=False)


def register(app: typer.Typer) -> None:
    """Attach this module's top-level commands."""
    app.command("spawn-site")(spawn_site)
    app.command("bootstrap")(bootstrap)
