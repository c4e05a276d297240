"""Replaying a recorded run: ``spawn-site --replay`` checks and ``chia replay``.

``chia replay <run dir>`` re-runs the whole recorded campaign offline on this machine:
every site of the recorded run is spawned again, under its own site name, with the
local launcher, over a self-hosted exchange on loopback (as ``chia demo`` does), and
each agent's model calls are answered from the recording (:mod:`chia.llm.replay`). The
sites keep their names because the model read them: a message's ``from_site`` is part
of the prompt, so folding every agent into one local-exchange site would change every
prompt and diverge at once. The new run gets its own id (``<old>-replay-<n>``) next to
the old one, and what it did is compared with what the recording did
(:mod:`chia.site.replay_compare`).
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from chia.agent.factory import check_lm, lm_override
from chia.campaign import LMSettings, LoadedCampaign, load_campaign
from chia.campaign.selection import parse_agent_list
from chia.errors import ChiaError, ChiaUsageError
from chia.events import AgentState, AgentStatus, read_snapshot
from chia.llm.recording import find_records, read_records
from chia.names import check_name
from chia.site.launch import LAUNCH_FILE, SiteLaunch
from chia.site.replay_compare import compare_runs, divergences
from chia.timeouts import PEER_TIMEOUT_S

if TYPE_CHECKING:
    from chia.site.spawn import SpawnRequest

__all__ = [
    "ReplayOutcome",
    "newest_run",
    "recorded_campaign",
    "recorded_launches",
    "replay_run",
    "replay_settings",
]

#: The longest run id (NAME_PATTERN): a replay's id clips the old one to fit its suffix.
_MAX_NAME = 64


def recorded_launches(run_dir: Path) -> list[SiteLaunch]:
    """The launch files of a recorded run directory (or of the site directory given).

    Raises:
        ChiaUsageError: If the directory does not exist, holds no ``<site>/launch.json``,
            or one of them is not a launch file.
    """
    if not run_dir.is_dir():
        raise ChiaUsageError(f"--replay {run_dir}: no such run directory")
    paths = [run_dir / LAUNCH_FILE] if (run_dir / LAUNCH_FILE).is_file() else []
    paths = paths or sorted(run_dir.glob(f"*/{LAUNCH_FILE}"))
    if not paths:
        raise ChiaUsageError(
            f"{run_dir} is not a run directory: no <site>/{LAUNCH_FILE} in it "
            "(pass <runs>/<run-id> of a run that chia spawn-site wrote)"
        )
    launches = []
    for path in paths:
        try:
            launches.append(SiteLaunch.read(path))
        except (ValidationError, ValueError) as exc:
            raise ChiaUsageError(f"{path}: not a launch file: {exc}") from None
    return launches


def recorded_campaign(run_dir: Path) -> str:
    """The name of the campaign a recorded run ran (from its launch files and records).

    Raises:
        ChiaUsageError: If the run dir is not one, its sites ran different campaigns,
            or nothing in it says which campaign it ran.
    """
    names: set[str] = set()
    for launch in recorded_launches(run_dir):
        try:
            names.add(load_campaign(launch.campaign_path).spec.name)
        except ChiaError:  # the campaign file moved: its records still name it
            for agent in launch.agents:
                source = find_records(launch.site_dir, agent) or find_records(run_dir, agent)
                records = read_records(source) if source is not None else []
                names.update(r.campaign for r in records[:1] if r.campaign)
    if len(names) > 1:
        raise ChiaUsageError(f"{run_dir}: its sites ran different campaigns: {sorted(names)}")
    if not names:
        raise ChiaUsageError(f"{run_dir}: cannot tell which campaign it ran")
    return names.pop()


def replay_settings(
    request: SpawnRequest, loaded: LoadedCampaign
) -> tuple[Path | None, LMSettings | None]:
    """``spawn-site --replay/--continue-live``: the run dir to replay and the live model.

    Checks, before anything starts: the run dir exists and ran this same campaign, the
    record files of the slice's agents read cleanly, and the live model (if any) can
    work. No API key is needed unless a live model is named.

    Returns:
        The recorded run dir (absolute), and the model for calls after a divergence.

    Raises:
        ChiaUsageError: For a missing or foreign run dir (both campaigns named), a
            corrupt record file (file and line named), ``--continue-live`` without
            ``--replay``, ``--model`` with ``--replay``, or a live model that cannot work.
    """
    if request.replay is None:
        raise ChiaUsageError("--continue-live needs --replay <run dir>")
    if request.model is not None:
        raise ChiaUsageError(
            "--model does not combine with --replay (the recording answers); name the model "
            "for the calls after a divergence with --continue-live provider:model"
        )
    run_dir = request.replay.expanduser().resolve()
    recorded = recorded_campaign(run_dir)
    if recorded != loaded.spec.name:
        raise ChiaUsageError(
            f"--replay {run_dir} recorded campaign {recorded!r}, not {loaded.spec.name!r}: "
            "a replay runs the campaign it recorded"
        )
    for agent in parse_agent_list(request.agents):
        source = find_records(run_dir, agent)
        if source is not None:
            read_records(source)
    if request.continue_live is None:
        if request.llm_base_url or request.llm_api_key_env:
            raise ChiaUsageError("--llm-base-url and --llm-api-key-env need --continue-live")
        return run_dir, None
    try:
        live = lm_override(
            loaded.spec.lm,
            request.continue_live,
            base_url=request.llm_base_url,
            api_key_env=request.llm_api_key_env,
        )
    except ValidationError as exc:
        problems = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors())
        raise ChiaUsageError(f"--continue-live {request.continue_live}: {problems}") from None
    check_lm(live)
    return run_dir, live


def newest_run(runs_dir: Path, prefix: str) -> Path:
    """The newest recorded run under ``runs_dir`` named ``prefix...`` (replays left out).

    Raises:
        ChiaUsageError: If there is none.
    """
    runs = [
        p
        for p in runs_dir.glob(f"{prefix}*")
        if "-replay-" not in p.name and any(p.glob(f"*/{LAUNCH_FILE}"))
    ]
    if not runs:
        raise ChiaUsageError(f"no {prefix}* run under {runs_dir} to replay")
    return max(runs, key=lambda p: max(f.stat().st_mtime for f in p.glob(f"*/{LAUNCH_FILE}")))


def _replay_id(runs_dir: Path, old: str) -> str:
    for number in range(1, 10_000):
        suffix = f"-replay-{number}"
        candidate = old[: _MAX_NAME - len(suffix)] + suffix
        if not (runs_dir / candidate).exists():
            return check_name(candidate, "run id")
    raise ChiaUsageError(f"{runs_dir}: too many replays of {old}")


@dataclass
class ReplayOutcome:
    """What ``chia replay`` did.

    Attributes:
        run_id: The new run's id.
        run_dir: The new run's directory.
        site_codes: Each site's exit code, by site name.
        diverged: One line per agent that diverged (agent, round, what changed).
        differences: Where the replayed events differ from the recorded ones.
        compared: How many events were compared.
    """

    run_id: str
    run_dir: Path
    site_codes: dict[str, int] = field(default_factory=dict)
    diverged: list[str] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)
    compared: int = 0

    @property
    def matched(self) -> bool:
        """Every site finished and the replay did what the recording did."""
        return not (self.diverged or self.differences) and not any(self.site_codes.values())


def _failed_agents(run_dir: Path) -> list[str]:
    """Agents of the run whose status says they failed."""
    failed = []
    for path in sorted(run_dir.glob("*/status/*.json")):
        status = read_snapshot(path, AgentStatus)
        if status is not None and status.state is AgentState.FAILED:
            failed.append(status.agent)
    return failed


def _site_argv(
    launch: SiteLaunch, *, run_id: str, campaign: str, url: str, runs_dir: Path, source: Path
) -> list[str]:
    argv = [sys.executable, "-m", "chia", "spawn-site", "--system", "local"]
    argv += ["--launcher", "local", "--site", launch.site, "--campaign", campaign]
    argv += ["--run-id", run_id, "--agents", ",".join(launch.agents), "--exchange", "http"]
    argv += ["--exchange-url", url, "--runs-dir", str(runs_dir), "--replay", str(source)]
    argv += ["--startup-timeout-s", f"{launch.startup_timeout_s:g}"]
    # A diverged agent fails the same way each time: restarting it would only hide why.
    return [*argv, "--max-restarts", "0"]


def replay_run(
    run_dir: Path,
    *,
    runs_dir: Path | None = None,
    campaign: str | None = None,
    live: list[str] | None = None,
    timeout_s: float = PEER_TIMEOUT_S,
    say: Callable[[str], None] = print,
) -> ReplayOutcome:
    """Re-run a recorded campaign offline from its records; compare what it did.

    Args:
        run_dir: The recorded run (``<runs>/<run-id>``, or one of its site dirs).
        runs_dir: Where the new run goes (default: next to the recorded one).
        campaign: The campaign to run (default: the one the recording ran, from its
            launch files); it must be the same campaign, perhaps edited.
        live: ``spawn-site`` flags naming a live model for calls after a divergence
            (``--continue-live M [--llm-base-url U] [--llm-api-key-env V]``).
        timeout_s: Give up (and stop every site) after this long.
        say: Where progress lines go.

    Raises:
        ChiaUsageError: For a directory that is not a recorded run, a corrupt record file
            (file and line named), or a campaign other than the recorded one.
        ChiaError: If the replay did not finish within ``timeout_s``.
    """
    from chia.exchange.server import ExchangeServer
    from chia.processes import die_with_parent, stop_processes

    source = run_dir.expanduser().resolve()
    if (source / LAUNCH_FILE).is_file():
        source = source.parent
    launches = recorded_launches(source)
    for agent in (name for launch in launches for name in launch.agents):
        if (records := find_records(source, agent)) is not None:
            read_records(records)  # a corrupt file is named before anything starts
    if campaign is not None:
        recorded, chosen = recorded_campaign(source), load_campaign(campaign).spec.name
        if recorded != chosen:
            raise ChiaUsageError(
                f"{source} recorded campaign {recorded!r}, not {chosen!r}: "
                "a replay runs the campaign it recorded"
            )
    runs_dir = (runs_dir or source.parent).expanduser().resolve()
    run_id = _replay_id(runs_dir, launches[0].run_id)
    ref = campaign or str(launches[0].campaign_path)
    outcome = ReplayOutcome(run_id=run_id, run_dir=runs_dir / run_id)
    say(f"replaying run {launches[0].run_id} ({source}) as run {run_id}")
    procs: dict[str, subprocess.Popen[bytes]] = {}
    with ExitStack() as stack:
        server = stack.enter_context(ExchangeServer(workdir=outcome.run_dir / "exchange"))
        stack.callback(stop_processes, procs.values(), 10.0)
        for launch in launches:
            argv = _site_argv(
                launch, run_id=run_id, campaign=ref, url=server.url, runs_dir=runs_dir,
                source=source,
            )  # fmt: skip
            say(f"site {launch.site}: agents {', '.join(launch.agents)}")
            procs[launch.site] = subprocess.Popen(
                [*argv, *(live or [])], stdin=subprocess.DEVNULL, preexec_fn=die_with_parent
            )
        deadline = time.monotonic() + timeout_s
        while any(p.poll() is None for p in procs.values()):
            if time.monotonic() > deadline:
                raise ChiaError(f"the replay did not finish within {timeout_s:g}s")
            failed = _failed_agents(outcome.run_dir)
            if failed or any(p.returncode for p in procs.values()):
                # An agent diverged (or a site failed): the run stops there, rather than
                # its peers idling out waiting for messages that will not come.
                say(f"{', '.join(failed) or 'a site'} failed: stopping the replay")
                stop_processes(procs.values(), 10.0)
                break
            time.sleep(0.2)
    outcome.site_codes = {site: proc.returncode for site, proc in procs.items()}
    outcome.diverged = divergences(outcome.run_dir)
    outcome.compared, outcome.differences = compare_runs(source, outcome.run_dir)
    return outcome
