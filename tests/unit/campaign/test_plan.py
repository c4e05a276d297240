from __future__ import annotations

import shlex

from chia.campaign import build_plan


def test_plan_groups_agents_by_site_and_marks_cross_site_routes(make_spec):
    plan = build_plan(make_spec(), campaign_ref="pair.jsonc", run_id="r1")
    assert [(s.site, s.agents) for s in plan.sites] == [("s1", ("a",)), ("s2", ("b",))]
    assert plan.federated
    assert all(route.cross_site for route in plan.routes)
    argv = shlex.split(plan.sites[0].command)
    assert argv[:4] == ["chia", "spawn-site", "--system", "s1"]
    assert "--no-bootstrap" in argv and argv[argv.index("--run-id") + 1] == "r1"
    assert plan.sites[0].hosts_initial_agent and not plan.sites[1].hosts_initial_agent
    assert "bootstrap" in plan.bootstrap_command


def test_single_site_plan_needs_no_separate_bootstrap(campaign_data):
    from chia.campaign import CampaignSpec

    data = campaign_data(run_id="default-run")
    for agent in data["agents"]:
        agent.pop("site")
    plan = build_plan(CampaignSpec.model_validate(data), campaign_ref="x", exchange="redis")
    assert plan.run_id == "default-run"
    assert len(plan.sites) == 1 and plan.sites[0].site == "local"
    assert "--no-bootstrap" not in plan.sites[0].command
    assert "--exchange-url" not in plan.sites[0].command
    assert not any(route.cross_site for route in plan.routes)
