"""--resume: the whole crux site is SIGKILLed mid-game, as a preempted allocation would be.

Started again without --resume, spawn-site refuses the run dir that holds events (exit 2,
naming --resume and the dir). With --resume it rejoins the running campaign: the site
says it resumed (``site_started`` with ``resumed``, its clock continuing), crux rebuilds
its state from its events file, and the game completes with the exact result.
"""

from __future__ import annotations

import json
import os
import signal
import time

from chia.testing.campaigns import write_campaign_dir

AGENTS = [
    {"name": "agent-aurora", "role": "r", "mission": "m", "allowed_peers": ["agent-crux"]},
    {"name": "agent-crux", "role": "r", "mission": "m", "allowed_peers": ["agent-aurora"]},
]


def _status(path):
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return {}


def test_a_killed_site_is_refused_without_resume_and_completes_with_it(
    sites, http_server, tmp_path
):
    campaign = write_campaign_dir(
        tmp_path,
        "long-counter",
        AGENTS,
        policy={"kind": "counter", "target": 600},
        limits={"max_decisions": 5000, "idle_timeout_s": 120},
    )
    common = ["--system", "local", "--campaign", str(campaign), "--run-id", "resume-1"]
    common += ["--exchange", "http", "--exchange-url", http_server.url]
    crux_args = [*common, "--site", "crux", "--agents", "agent-crux"]
    crux = sites.start(*crux_args, name="crux")
    aurora = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="aurora")
    site_dir = sites.runs_dir / "resume-1" / "crux"
    status_path = site_dir / "status" / "agent-crux.json"
    deadline = time.monotonic() + 60
    while (before := _status(status_path)).get("decisions", 0) < 5:
        assert time.monotonic() < deadline and crux.proc.poll() is None, crux.output
        time.sleep(0.05)

    os.killpg(crux.proc.pid, signal.SIGKILL)  # spawn-site and its host, all at once
    crux.wait(timeout=10)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{before['pid']}"):
        assert time.monotonic() < deadline, "the host outlived its killed process group"
        time.sleep(0.05)

    refused = sites.start(*crux_args, name="refused")
    assert refused.wait(timeout=60) == 2, refused.output
    assert "--resume" in refused.output and str(site_dir) in refused.output.replace("\n", "")

    resumed = sites.start(*crux_args, "--resume", name="resumed")
    assert resumed.wait(timeout=120) == 0, resumed.output
    assert aurora.wait(timeout=60) == 0, aurora.output
    assert "(resuming)" in resumed.output
    site_events = [json.loads(line) for line in (site_dir / "events" / "_site.jsonl").open()]
    started = [e for e in site_events if e["kind"] == "site_started"]
    assert [e["resumed"] for e in started] == [False, True]
    clocks = [e["clock"] for e in site_events]
    assert clocks == sorted(clocks) and len(set(clocks)) == len(clocks)
    final = _status(status_path)
    assert (final["result"], final["finish_reason"]) == ("counter = 600", "completed")
    assert final["uid"] == before["uid"] and final["pid"] != before["pid"]
