"""``chia demo``: a two-site federated-chat campaign on this machine, start to finish.

An embedded exchange on a free loopback port (chia's push exchange by default; Academy's
self-hosted HTTP exchange with ``exchange="http"``), two ``chia spawn-site`` processes
(sites ``aurora`` and ``crux``), the bootstrap, a per-site summary, and then everything
is stopped. No network and no API key are needed: the campaign's scripted model plays.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from chia.agent.factory import model_readiness
from chia.campaign import build_plan, load_campaign
from chia.errors import ChiaError
from chia.events.runs import summarize_run
from chia.exchange.push.process import PushServer
from chia.exchange.server import ExchangeServer
from chia.interrupts import run_interruptible
from chia.processes import die_with_parent, stop_processes
from chia.site.bootstrap import bootstrap

__all__ = ["DEMO_CAMPAIGN", "DemoExchange", "embedded_exchange", "run_demo"]

DEMO_CAMPAIGN = "federated-chat"
#: The exchanges the demo can embed.
DemoExchange = Literal["push", "http"]


def embedded_exchange(kind: DemoExchange, workdir: Path) -> PushServer | ExchangeServer:
    """An exchange server of ``kind`` on a free loopback port (a context manager)."""
    if kind == "push":
        return PushServer(workdir=workdir)
    return ExchangeServer(workdir=workdir)


def _model_flags(model: str | None, say: Callable[[str], None]) -> list[str]:
    """The spawn-site flags for ``--model``, or none (offline) when its key is not set.

    Raises:
        ChiaUsageError: For a malformed reference, unknown provider or placeholder.
    """
    if model is None:
        say("model: offline scripted model (pass --model provider:model for a real one)")
        return []
    missing = model_readiness(model)
    if missing is not None:
        say(f"model {model}: {missing}; staying offline on the scripted model")
        return []
    say(f"model: {model}")
    return ["--model", model]


def run_demo(
    runs_dir: Path,
    *,
    run_id: str | None = None,
    timeout_s: float = 300.0,
    model: str | None = None,
    exchange: DemoExchange = "push",
    say: Callable[[str], None] = print,
) -> tuple[int, str]:
    """Run the demo; return its exit code (0: every site finished, campaign complete) and run id.

    Args:
        runs_dir: Where the run directory goes.
        run_id: The run id (default ``demo-<UTC time>``).
        timeout_s: Give up (and stop everything) after this long.
        model: ``provider:model`` to play on a real model when its key is set.
        exchange: The embedded exchange: ``push`` (default) or ``http``.
        say: Where progress lines go.
    """
    model_flags = _model_flags(model, say)  # before anything starts: a bad ref leaves nothing
    loaded = load_campaign(DEMO_CAMPAIGN)
    run = run_id or f"demo-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    plan = build_plan(loaded.spec, campaign_ref=DEMO_CAMPAIGN, run_id=run)
    runs_dir = runs_dir.expanduser().resolve()
    procs: list[subprocess.Popen[bytes]] = []
    with ExitStack() as stack:
        server = embedded_exchange(exchange, runs_dir / run / "exchange")
        stack.enter_context(server)
        stack.callback(stop_processes, procs, 10.0)  # each site stops its own ranks
        say(f"exchange: {exchange}, self-hosted on {server.url}")
        for planned in plan.sites:
            argv = [sys.executable, "-m", "chia", "spawn-site", "--system", "local"]
            argv += ["--site", planned.site, "--campaign", DEMO_CAMPAIGN, "--run-id", run]
            argv += ["--agents", ",".join(planned.agents), "--exchange", exchange]
            argv += ["--exchange-url", server.url, "--runs-dir", str(runs_dir), "--no-bootstrap"]
            argv += model_flags
            say(f"site {planned.site}: {' '.join(argv[2:])}")
            procs.append(
                subprocess.Popen(argv, stdin=subprocess.DEVNULL, preexec_fn=die_with_parent)
            )
        say(f"bootstrap: waiting for {loaded.spec.initial_agent}")
        envelope = run_interruptible(  # a stop signal cancels the wait, then unwinds
            bootstrap(server.settings(), loaded.spec, run_id=run, timeout_s=timeout_s)
        )
        say(f"bootstrap: sent kickoff {envelope.message_id}")
        deadline = time.monotonic() + timeout_s
        while any(p.poll() is None for p in procs):
            if time.monotonic() > deadline:
                raise ChiaError(f"the demo did not finish within {timeout_s:g}s")
            time.sleep(0.2)
    summary = summarize_run(runs_dir / run)
    say(f"\nrun {run}: {runs_dir / run}")
    for site in summary.sites:
        say(
            f"  {site.site}: {len(site.statuses)} agent(s), {site.events} events, "
            f"{site.messages} messages sent ({site.cross_site_messages} cross-site)"
        )
        for result in dict.fromkeys(site.results):
            say(f"    {result}")
    codes = [proc.returncode for proc in procs]
    finished = all(code == 0 for code in codes) and any(site.results for site in summary.sites)
    say("demo finished" if finished else f"demo failed: site exit codes {codes}")
    return (0 if finished else 1), run
