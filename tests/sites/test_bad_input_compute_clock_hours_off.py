"""A compute node whose clock is 3 hours behind, reaching the exchange only by proxy.

crux's spawn-site (its processes under a real clock offset of -3 h) asks the laptop's
exchange for the time through its login's proxy before any rank starts: it warns once,
naming the site, the offset and the fix, records a `clock_skew` event, and carries on
(a warning, not an error: nothing in a campaign needs agreeing clocks).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from chia.testing.clock_skew import clock_skew_prefix
from chia.testing.netns import LAPTOP_ADDRESS, Topology
from chia.testing.site_realism import (
    LaptopExchange,
    Phases,
    clean_env,
    wait_for_line,
    write_site_profile,
)
from chia.testing.sites import CHIA
from chia.testing.tinyproxy import proxy_environment, start_tinyproxy

THREE_HOURS = 3 * 3600


def test_compute_clock_hours_off_warns_and_goes_on(
    topo: Topology, laptop_exchange: LaptopExchange, phases: Phases, tmp_path: Path
) -> None:
    try:
        skew = clock_skew_prefix(-THREE_HOURS, tmp_path / "clock-skew")
    except RuntimeError as exc:
        pytest.skip(str(exc))
    proxy = start_tinyproxy(topo, "crux", target=LAPTOP_ADDRESS, ports=[laptop_exchange.port])
    runs = tmp_path / "runs"
    argv = [*skew, CHIA, "spawn-site", "--system", str(write_site_profile(tmp_path, "crux"))]
    argv += ["--site", "crux", "--campaign", "federated-chat", "--run-id", "skewed"]
    argv += ["--agents", "agent-crux", "--runs-dir", str(runs), "--no-bootstrap"]
    argv += ["--exchange", "http", "--exchange-url", laptop_exchange.url]
    env = clean_env(**proxy_environment(proxy), CHIA_EXCHANGE_TOKEN=laptop_exchange.token)
    log = tmp_path / "crux.out"
    site = topo.popen("crux-compute", *argv, log=log, env=env)
    phases.mark("proxy up, site started")
    line = wait_for_line(log, r"\[crux\] warning: this machine's clock is 3h00m\d\ds behind", site)
    wait_for_line(log, "waiting for peers", site)  # it went on: ranks up, through the proxy
    phases.mark("warned, ranks up")
    site.send_signal(signal.SIGTERM)
    assert site.wait(60) is not None
    text = " ".join(log.read_text().split())
    assert "fix NTP on this machine" in text, line
    events = [json.loads(x) for x in (runs / "skewed" / "crux" / "events" / "_site.jsonl").open()]
    skews = [e for e in events if e["kind"] == "clock_skew"]
    # offset_s: the exchange's clock minus this machine's
    assert len(skews) == 1 and abs(skews[0]["offset_s"] - THREE_HOURS) < 60, skews
    assert topo.processes_left().get("crux-compute", []) == []
