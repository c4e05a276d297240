"""The walkthrough with crux's login losing its network for 30 s mid-campaign.

Right after the kickoff, while aurora's first message to crux is on its way, the
laptop-crux link goes down (``ip link set down``: the exchange, through crux's proxy,
and crux's ssh master are cut), and comes back 30 s later. (Cutting it once crux had the
counter raced the campaign: on a quiet machine crux finished its five turns before the
link went down, and nothing was cut. Cut at the start, crux cannot finish without the
exchange: the counter goes back and forth ten times.) Asserted: the campaign resumes and
completes, and crux's ranks said they lost the exchange and got it back. (The
durability issue's "whole site lost" case; nothing may be lost.)
"""

from __future__ import annotations

import time
from pathlib import Path

from chia.testing.netns import Topology
from chia.testing.site_realism import LaptopExchange, Phases
from chia.testing.site_walkthrough import (
    AGENTS,
    Options,
    Walkthrough,
    agent_status,
    run_walkthrough,
)

DROP_S = 30.0


def _drop_crux(walk: Walkthrough) -> None:
    walk.topo.set_link("laptop", "crux-login", up=False)
    time.sleep(DROP_S)  # the outage itself, not a wait for something to happen
    walk.topo.set_link("laptop", "crux-login", up=True)


def test_walkthrough_with_crux_cut_off_for_30_s(
    topo: Topology, laptop_exchange: LaptopExchange, phases: Phases, tmp_path: Path
) -> None:
    options = Options(run_id="walk-drop")
    walk = run_walkthrough(topo, laptop_exchange, phases, tmp_path, options, during=_drop_crux)
    for site in AGENTS:
        status = agent_status(walk, site)
        assert status["state"] == "finished" and status["result"] == "counter = 10", status
    crux = walk.site_output("crux")
    assert "exchange lost" in crux, crux
    walk.shut_down()
