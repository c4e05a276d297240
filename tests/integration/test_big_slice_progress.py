"""A site of many agents prints aggregate progress lines; the per-agent ones go to logs/."""

from __future__ import annotations

import re

from chia.testing.campaigns import write_campaign_dir

NAMES = [f"east-{i:03d}" for i in range(10)]


def test_ten_agents_print_counts_not_lines_each(sites, tmp_path):
    agents = [
        {"name": name, "role": "r", "mission": "m", "site": "east"}
        | {"allowed_peers": [NAMES[1] if i == 0 else NAMES[0]]}
        for i, name in enumerate(NAMES)
    ]
    campaign = write_campaign_dir(
        tmp_path,
        "many",
        agents,
        policy={"kind": "counter", "start": 1, "target": 4, "message": "counter = {counter}"},
        limits={"idle_timeout_s": 3, "success": ["completed", "idle_timeout"]},
    )
    site = sites.start(
        *("--system", "local", "--campaign", str(campaign), "--run-id", "many-1"),
        *("--site", "east", "--agents", ",".join(NAMES), "--exchange", "local"),
        *("--agents-per-process", "10"),
    )
    assert site.wait(timeout=120) == 0, site.output
    out = site.output
    assert re.search(r"\[east\] 10 agents: per-agent lines go to \S+/logs/", out)
    assert re.search(r"^\[east\] running \d+/10", out, re.MULTILINE)
    assert "[east] finished 10/10: 2 completed, 8 idle_timeout\n" in out
    assert not re.search(r"\] east-\d{3}: running$", out, re.MULTILINE), out
    logs = "".join(
        path.read_text() for path in (sites.runs_dir / "many-1" / "east" / "logs").glob("*.log")
    )
    assert all(f"] {name}: running" in logs for name in NAMES)
