"""The fault-flood campaign with no fault: 1,000 messages on two sites, exact, nothing lost.

The baseline every fault scenario is compared with: the local launcher, over the
self-hosted HTTP exchange and over Redis. agent-aurora's site sends the kickoff itself
(it hosts the initial agent) once its peer answers, so every message is on record.
"""

from __future__ import annotations

import json

import pytest

from chia.agent.scripted import BallsScriptedPolicy
from chia.campaign import BallsPolicy, load_campaign

CAMPAIGN = "fault-flood"
#: Generous: only so that a stuck campaign fails instead of blocking the suite.
RUN_TIMEOUT_S = 240


@pytest.mark.parametrize("exchange", ["http", "redis", "push", "redis-fast"], indirect=True)
def test_flood_completes_exactly_with_nothing_lost(sites, exchange, fault_table):
    spec = load_campaign(CAMPAIGN).spec.policy
    assert isinstance(spec, BallsPolicy)
    expected = BallsScriptedPolicy.expected_result(spec)
    run_id = f"flood-{exchange.kind}"
    common = ["--system", "local", "--launcher", "local", "--campaign", CAMPAIGN]
    common += ["--run-id", run_id, *exchange.args]
    aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="aurora")
    crux = sites.start(*common, "--site", "crux", "--agents", "agent-crux", name="crux")
    assert aurora.wait(RUN_TIMEOUT_S) == 0, aurora.output
    assert crux.wait(RUN_TIMEOUT_S) == 0, crux.output

    run = sites.runs_dir / run_id
    figures = fault_table.record("flood baseline", "local", exchange.kind, run)
    assert figures.results == (expected,), figures
    assert (figures.lost, figures.lost_ids) == (0, ()), figures
    assert (figures.duplicates_decided, figures.duplicate_ids) == (0, ()), figures
    # The kickoff, balls x target bounces, and the completion notice.
    assert figures.sent == spec.balls * spec.target + 2, figures
    assert figures.delivered == figures.sent, figures
    assert figures.acknowledged == figures.sent, figures
    results = []
    for site, agent in (("aurora", "agent-aurora"), ("crux", "agent-crux")):
        status = json.loads((run / site / "status" / f"{agent}.json").read_text())
        assert (status["state"], status["finish_reason"]) == ("finished", "completed"), status
        results.append(status["result"])
    # The agent retiring the last ball submits; the other completes on its notice.
    assert expected in results and set(results) <= {expected, None}, results
