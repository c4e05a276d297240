"""The walkthrough with crux's job leaving the queue late: 60 s (5 min with ``--full``).

aurora registers and waits for its peer; only then, after the delay, does crux's
spawn-site start. The campaign still completes on both sites.
"""

from __future__ import annotations

from pathlib import Path

from chia.testing.netns import Topology
from chia.testing.site_realism import LaptopExchange, Phases
from chia.testing.site_walkthrough import AGENTS, Options, agent_status, run_walkthrough


def test_walkthrough_with_one_site_started_late(
    topo: Topology, laptop_exchange: LaptopExchange, phases: Phases, tmp_path: Path, late_s: float
) -> None:
    options = Options(run_id="walk-late", late_site="crux", late_s=late_s)
    walk = run_walkthrough(topo, laptop_exchange, phases, tmp_path, options)
    aurora = walk.site_output("aurora")
    # aurora was waiting for crux before crux's site existed, and found it when it came.
    assert "waiting for peers ['agent-crux']" in aurora
    assert "peer agent-crux answered" in aurora and "did not answer" not in aurora
    for site in AGENTS:
        status = agent_status(walk, site)
        assert status["state"] == "finished" and status["result"] == "counter = 10", status
    walk.shut_down()
