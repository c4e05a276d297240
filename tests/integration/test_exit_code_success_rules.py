"""Exit codes follow the campaign's success rules (``limits.success``).

A counter game whose agents run out of decisions long before the target: by default that
is no success (exit 1, a line per agent saying why, the reasons in ``site_finished``);
a campaign that lists ``max_decisions`` as success exits 0 for the same run.
"""

from __future__ import annotations

import json

import pytest

from chia.testing.campaigns import write_campaign_dir

AGENTS = [
    {"name": "agent-aurora", "role": "r", "mission": "m", "allowed_peers": ["agent-crux"]},
    {"name": "agent-crux", "role": "r", "mission": "m", "allowed_peers": ["agent-aurora"]},
]


@pytest.mark.parametrize(
    ("success", "code"), [(None, 1), (["completed", "max_decisions"], 0)], ids=["default", "ok"]
)
def test_stopping_on_max_decisions_is_success_only_if_the_campaign_says_so(
    sites, tmp_path, success, code
):
    limits = {"max_decisions": 3, "idle_timeout_s": 60}
    if success is not None:
        limits["success"] = success
    campaign = write_campaign_dir(
        tmp_path, "short", AGENTS, policy={"kind": "counter", "target": 1000}, limits=limits
    )
    site = sites.start(
        *("--system", "local", "--campaign", str(campaign), "--run-id", "rules-1"),
        *("--exchange", "local", "--site", "both", "--agents", "agent-aurora,agent-crux"),
    )
    assert site.wait(timeout=90) == code, site.output
    last = (sites.runs_dir / "rules-1" / "both" / "events" / "_site.jsonl").read_text()
    finished = json.loads(last.splitlines()[-1])
    assert finished["kind"] == "site_finished"
    if code == 0:
        assert finished["status"] == "finished" and finished["reasons"] == {}
        assert "every agent finished" in site.output
        return
    why = "stopped on max_decisions before the campaign completed"
    assert finished["reasons"] == {"agent-aurora": why, "agent-crux": why}
    assert f"[both] agent-aurora {why}" in site.output
    assert f"[both] agent-crux {why}" in site.output
