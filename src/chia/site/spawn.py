"""``chia spawn-site``: launch one site's slice of a campaign and watch it to the end.

The site's exit code says what happened: 0 only when every agent of the slice finished
by a stopping rule the campaign counts as success (``limits.success``, by default only
``completed``); 1 when an agent gave up after its restarts, idled out or hit its decision
limit with the campaign incomplete, or the site was interrupted; 2 when peers never
answered. A line names each agent that did not succeed and why, and
``SiteFinished.reasons`` records the same.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType

from pydantic import ValidationError

from chia.agent.factory import agent_lm, check_lm, lm_override
from chia.campaign import (
    CampaignSpec,
    LMSettings,
    LoadedCampaign,
    load_campaign,
    select_agents,
    validate_campaign,
)
from chia.errors import ChiaUsageError
from chia.events import (
    SITE_WRITER,
    AgentFinished,
    AgentPlacement,
    AgentState,
    AgentStatus,
    ClockSkew,
    EventWriter,
    LamportClock,
    Placement,
    SiteFinished,
    SiteStarted,
    events_path,
    iter_events,
    read_snapshot,
    write_snapshot,
)
from chia.events.durability import FsyncMode
from chia.exchange.settings import ExchangeKind, ExchangeSettings, check_credentials
from chia.llm.errors import LLMConfigError
from chia.llm.prices import user_prices
from chia.llm.settings import AGENT_CLI_PROVIDERS
from chia.names import check_name
from chia.profiles import SystemProfile, load_profile
from chia.site.clock_check import CLOCK_SKEW_WARN_S, check_clock
from chia.site.environment import rank_environment
from chia.site.launch import LauncherKind, SiteLaunch, site_dir
from chia.site.launcher_registry import make_launcher
from chia.site.launchers import Launcher
from chia.site.proxy_check import check_exchange_proxy
from chia.site.relay_endpoint import resolve_relay, uses_relay
from chia.site.supervisor import last_clock
from chia.timeouts import PEER_TIMEOUT_S

__all__ = [
    "SITE_WRITER",
    "SpawnRequest",
    "exchange_settings",
    "failures",
    "prepare_site",
    "spawn_site",
]

DEFAULT_STARTUP_TIMEOUT_S = PEER_TIMEOUT_S


@dataclass(frozen=True)
class SpawnRequest:
    """What the operator asked for on the command line."""

    system: str
    campaign: str
    agents: str
    run_id: str | None = None
    site: str | None = None
    exchange: ExchangeKind | None = None
    exchange_url: str | None = None
    launcher: LauncherKind | None = None
    runs_dir: Path | None = None
    startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S
    bootstrap: bool = True
    agents_per_process: int = 1
    model: str | None = None
    llm_base_url: str | None = None
    llm_api_key_env: str | None = None
    ray_address: str | None = None
    ray_resources: dict[str, dict[str, float]] | None = None
    max_restarts: int = 3
    resume: bool = False
    fsync: FsyncMode = "batch"
    replay: Path | None = None
    continue_live: str | None = None
    prices: Path | None = None


def exchange_settings(
    kind: ExchangeKind | None,
    url: str | None,
    profile: SystemProfile | None = None,
    *,
    run_id: str | None = None,
) -> ExchangeSettings:
    """Resolve the exchange from flags, falling back to the profile's defaults.

    With ``run_id``, the settings are that run's (:meth:`ExchangeSettings.for_run`):
    every process of a run must resolve them the same way.

    An exchange that needs a Globus login (Academy's hosted one, or ``globus``) is
    checked here, in the process the user started: without a cached login this fails
    before any rank or agent starts.

    Raises:
        ChiaUsageError: If the exchange needs a URL and has none, a URL does not fit its
            kind, or a Globus login is needed and none is cached.
    """
    defaults = profile.exchange if profile is not None else None
    chosen: ExchangeKind = kind or (defaults.kind if defaults else "http")
    if chosen in ("redis", "redis-fast", "hybrid"):
        if url:
            redis = ExchangeSettings.from_redis_url(chosen, url)
        else:
            host = defaults.redis_host if defaults else "127.0.0.1"
            port = defaults.redis_port if defaults else 6379
            redis = ExchangeSettings(kind=chosen, redis_host=host, redis_port=port)
        return redis.for_run(run_id) if run_id else redis
    if chosen == "local":
        return ExchangeSettings(kind="local")
    target = url or (defaults.url if defaults and defaults.kind == chosen else None)
    if not target:
        raise ChiaUsageError(f"the {chosen} exchange needs --exchange-url {_URL_HINTS[chosen]}")
    try:
        settings = ExchangeSettings(kind=chosen, url=target)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ChiaUsageError(f"--exchange-url: {reason}") from None
    check_credentials(settings)
    return settings.for_run(run_id) if run_id else settings


_URL_HINTS = {
    "http": "URL (start one with `chia exchange serve`)",
    "push": "ws://host:port (start one with `chia exchange serve --transport push`)",
    "globus": "globus://<project-uuid>",
}


def prepare_site(request: SpawnRequest) -> tuple[SiteLaunch, SystemProfile, LoadedCampaign]:
    """Validate the request and write ``launch.json``; nothing is started yet.

    Raises:
        ChiaUsageError: For any bad name, file, selection or exchange setting.
    """
    profile = load_profile(request.system)
    loaded = load_campaign(request.campaign)
    prices = user_prices(request.prices)  # a bad price file: exit 2 before anything starts
    run_id = request.run_id or loaded.spec.run_id
    if run_id is None:
        raise ChiaUsageError(f"campaign {loaded.spec.name!r} has no run_id: pass --run-id")
    check_name(run_id, "run id")
    site = check_name(request.site or profile.name, "site")
    sliced = select_agents(loaded.spec, request.agents)
    validate_campaign(sliced, federated=True, source=str(loaded.path))
    replay: Path | None = None
    if request.replay is None and request.continue_live is None:
        lm = _model_override(request, loaded)
        if uses_relay(lm or loaded.spec.lm):  # the relay's host file must be there now
            lm = lm or loaded.spec.lm
            check_lm(resolve_relay(lm, profile.relay_host_file, site, env={}))
        else:
            check_lm(lm or loaded.spec.lm)
        for agent in sliced.agents:  # an agent's own model (an agent CLI...) is checked too
            if agent.lm is not None:
                _check_agent_lm(agent.name, agent.lm)
    else:  # the recording answers: no key needed unless a live model takes over
        from chia.site.replay import replay_settings

        replay, lm = replay_settings(request, loaded)
        _refuse_cli_replay(sliced, lm)
    runs_dir = (request.runs_dir or Path(profile.run_root)).expanduser().resolve()
    directory = site_dir(runs_dir, run_id, site)
    if not request.resume and _holds_events(directory):
        raise ChiaUsageError(
            f"run dir {directory} already holds events of run {run_id!r}: pass --resume "
            "to rejoin that run, or choose another --run-id or --runs-dir"
        )
    launch = SiteLaunch(
        run_id=run_id,
        site=site,
        profile=profile.name,
        campaign_path=loaded.path,
        agents=sliced.agent_names,
        exchange=exchange_settings(request.exchange, request.exchange_url, profile, run_id=run_id),
        launcher=request.launcher or profile.launcher.kind,
        site_dir=directory,
        startup_timeout_s=request.startup_timeout_s,
        bootstrap=request.bootstrap,
        agents_per_process=request.agents_per_process,
        lm=lm,
        ray_address=request.ray_address,
        ray_resources=request.ray_resources or {},
        max_restarts=request.max_restarts,
        fsync=request.fsync,
        resume=request.resume,
        replay=replay,
        relay_host_file=profile.relay_host_file,
        prices=prices,
    )
    launch.write()
    return launch, profile, loaded


def _refuse_cli_replay(campaign: CampaignSpec, live: LMSettings | None) -> None:
    """A recording holds model calls, not agent CLI runs: refuse to replay a CLI agent.

    Raises:
        ChiaUsageError: If an agent of the slice would decide with an agent CLI.
    """
    for agent in campaign.agents:
        provider = agent_lm(campaign, agent, live).provider
        if provider in AGENT_CLI_PROVIDERS:
            raise ChiaUsageError(
                f"agent {agent.name!r} runs the agent CLI {provider!r}: a recorded run "
                "cannot replay it (replay the campaign's other agents with --agents)"
            )


def _check_agent_lm(agent: str, lm: LMSettings) -> None:
    """:func:`check_lm` for one agent's own ``lm``; the error names the agent.

    Raises:
        LLMConfigError: If the settings cannot work (an agent CLI not on PATH...).
    """
    try:
        check_lm(lm)
    except LLMConfigError as exc:
        raise LLMConfigError(f"agent {agent!r}: {exc}") from None


def _holds_events(directory: Path) -> bool:
    """True if any events file of the site dir has content (a run happened there)."""
    return any(path.stat().st_size > 0 for path in (directory / "events").glob("*.jsonl"))


def _model_override(request: SpawnRequest, loaded: LoadedCampaign) -> LMSettings | None:
    """The campaign's model settings with ``--model`` applied, or None without it.

    Raises:
        ChiaUsageError: For ``--llm-*`` flags without ``--model``, or a bad reference.
    """
    if request.model is None:
        if request.llm_base_url or request.llm_api_key_env:
            raise ChiaUsageError("--llm-base-url and --llm-api-key-env need --model")
        return None
    try:
        return lm_override(
            loaded.spec.lm,
            request.model,
            base_url=request.llm_base_url,
            api_key_env=request.llm_api_key_env,
        )
    except ValidationError as exc:  # e.g. --llm-api-key-env is not a variable name
        problems = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors())
        raise ChiaUsageError(f"--model {request.model}: {problems}") from None


def _placement(launch: SiteLaunch, launcher: Launcher) -> Placement:
    """Compose placement from the ranks' status files (host, pid, rank as they report)."""
    agents = []
    for name in launch.agents:
        status = read_snapshot(launch.site_dir / "status" / f"{name}.json", AgentStatus)
        if status is not None and status.host is not None:
            agents.append(
                AgentPlacement(
                    agent=name,
                    uid=status.uid,
                    host=status.host,
                    pid=status.pid,
                    rank=status.rank if status.rank is not None else -1,
                )
            )
    return Placement(
        run_id=launch.run_id,
        site=launch.site,
        launcher=launcher.kind,
        exchange=launch.exchange.kind,
        agents=agents,
        updated=datetime.now(timezone.utc),
    )


def _finish_reason(launch: SiteLaunch, status: AgentStatus) -> str | None:
    """The agent's finish reason: from its status, else its last ``agent_finished`` event."""
    if status.finish_reason is not None:
        return status.finish_reason
    reason = None
    for event in iter_events([events_path(launch.site_dir, status.agent)]):
        if isinstance(event, AgentFinished):
            reason = event.reason
    return reason


def failures(launch: SiteLaunch, success: Collection[str]) -> dict[str, str]:
    """Why each agent of the slice did not finish the campaign; empty if all succeeded.

    Args:
        launch: The site launch (its status and events files are read).
        success: The finish reasons that count as success (the campaign's
            ``limits.success``).

    Returns:
        ``{agent: reason}``, e.g. ``gave up after 3 restarts (signal 9)`` or ``stopped on
        idle_timeout before the campaign completed``.
    """
    reasons: dict[str, str] = {}
    for name in launch.agents:
        status = read_snapshot(launch.site_dir / "status" / f"{name}.json", AgentStatus)
        if status is None:
            reasons[name] = "never started (no status file)"
        elif status.state is AgentState.FINISHED:
            why = _finish_reason(launch, status)
            if why not in success:
                shown = "was stopped" if why == "stopped" else f"stopped on {why}"
                reasons[name] = f"{shown} before the campaign completed"
        elif status.state is AgentState.FAILED:
            reasons[name] = status.last_error or "failed"
        else:
            reasons[name] = f"exited while {status.state.value}"
    return reasons


def spawn_site(request: SpawnRequest, say: Callable[[str], None] = print) -> int:
    """Launch the site, wait for every agent of its slice to stop, and report.

    Ctrl-C, SIGTERM or SIGHUP (a closed terminal) stops every process the site started.

    Returns:
        0 if every agent finished the campaign (see the module docstring); 2 if peers
        never answered; 1 otherwise.
    """
    launch, profile, loaded = prepare_site(request)
    env = rank_environment(profile, launch.exchange)
    proxy = check_exchange_proxy(profile, request.system, launch.site, env, launch.exchange)
    if proxy is not None:
        say(f"[{launch.site}] proxy {proxy} answers; the exchange is reached through it")
    skew = check_clock(launch.site, launch.exchange, env, say)
    launcher = make_launcher(launch, profile, env)
    site_events = events_path(launch.site_dir, SITE_WRITER)
    writer = EventWriter(  # a resumed site's clock continues where the last one stopped
        site_events,
        run_id=launch.run_id,
        site=launch.site,
        writer=SITE_WRITER,
        clock=LamportClock(last_clock(site_events)),
    )
    stop: list[int] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.append(signum)

    stops = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, on_signal) for s in stops}
    say(
        f"[{launch.site}] run {launch.run_id}: starting {len(launch.agents)} agent(s) "
        f"{launch.agents} with the {launcher.kind} launcher on the {launch.exchange.kind} "
        f"exchange; run dir {launch.site_dir}" + (" (resuming)" if launch.resume else "")
    )
    try:
        launcher.start()
        writer.emit(
            SiteStarted,
            launcher=launcher.kind,
            agents=launch.agents,
            exchange=launch.exchange.kind,
            host=socket.gethostname(),
            resumed=launch.resume,
        )
        if skew is not None:
            writer.emit(ClockSkew, **asdict(skew), threshold_s=CLOCK_SKEW_WARN_S)
        codes = _watch(launch, launcher, stop)
    finally:
        if launcher.alive():
            launcher.terminate()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    write_snapshot(launch.site_dir / "placement.json", _placement(launch, launcher))
    reasons = failures(launch, loaded.spec.limits.success)
    status = "interrupted" if stop else ("failed" if reasons else "finished")
    writer.emit(SiteFinished, status=status, failed_agents=list(reasons), reasons=reasons)
    writer.close()
    if stop:
        say(f"[{launch.site}] interrupted: stopped every agent process")
        return 1
    if reasons:
        say(f"[{launch.site}] agent(s) did not finish the campaign: {', '.join(reasons)}")
        for name, reason in reasons.items():
            say(f"[{launch.site}] {name} {reason}")
        return 2 if 2 in codes else 1
    say(f"[{launch.site}] every agent finished; run dir {launch.site_dir}")
    return 0


def _watch(launch: SiteLaunch, launcher: Launcher, stop: list[int]) -> list[int]:
    """Poll until every process exits (or a signal asks us to stop); keep placement fresh.

    Each poll also restarts the processes that died (the launcher's supervision), so the
    interval bounds how soon a killed agent comes back.
    """
    placed: set[tuple[str, int | None]] = set()
    while True:
        if stop:  # first: a host the same signal reached (a terminal's) is not restarted
            launcher.terminate()
            return launcher.poll() or []
        codes = launcher.poll()
        if codes is not None:
            return codes
        placement = _placement(launch, launcher)
        where = {(agent.agent, agent.pid) for agent in placement.agents}
        if where != placed:  # a new agent, or a restarted one with a new pid
            placed = where
            write_snapshot(launch.site_dir / "placement.json", placement)
        time.sleep(0.1)
