"""Replay set-up: recorded launches and campaign, spawn-site's checks, run naming."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from chia.campaign import load_campaign
from chia.errors import ChiaUsageError
from chia.site.replay import (
    _replay_id,
    newest_run,
    recorded_campaign,
    recorded_launches,
    replay_settings,
)
from chia.site.spawn import SpawnRequest, prepare_site

MCP = "federated-chat-mcp"


def _record(runs: Path, run_id: str, campaign: str = MCP) -> Path:
    for site, agent in (("aurora", "agent-aurora"), ("crux", "agent-crux")):
        prepare_site(
            SpawnRequest(
                system="local",
                campaign=campaign,
                agents=agent,
                run_id=run_id,
                site=site,
                exchange="local",
                runs_dir=runs,
            )
        )
    return runs / run_id


def test_launches_of_a_run_dir_or_a_site_dir(tmp_path):
    run = _record(tmp_path, "r1")
    assert [launch.site for launch in recorded_launches(run)] == ["aurora", "crux"]
    assert [launch.site for launch in recorded_launches(run / "crux")] == ["crux"]
    assert recorded_campaign(run) == MCP
    with pytest.raises(ChiaUsageError, match="no such run directory"):
        recorded_launches(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ChiaUsageError, match="is not a run directory"):
        recorded_launches(tmp_path / "empty")
    (run / "crux" / "launch.json").write_text("{}")
    with pytest.raises(ChiaUsageError, match=r"crux/launch.json: not a launch file"):
        recorded_launches(run)


def test_a_moved_campaign_is_named_by_the_records(tmp_path):
    run = _record(tmp_path, "r1")
    for path in run.glob("*/launch.json"):
        launch = json.loads(path.read_text())
        launch["campaign_path"] = str(tmp_path / "gone" / "campaign.jsonc")
        path.write_text(json.dumps(launch))
    with pytest.raises(ChiaUsageError, match="cannot tell which campaign"):
        recorded_campaign(run)
    records = run / "aurora" / "llm" / "agent-aurora.jsonl"
    records.parent.mkdir()
    record = {
        "seq": 0,
        "digest": "sha256:0",
        "campaign": "moved-campaign",
        "identity": {"provider": "p", "model": "m"},
        "request": {"messages": []},
    }
    records.write_text(json.dumps(record) + "\n")
    assert recorded_campaign(run) == "moved-campaign"


def test_sites_of_different_campaigns_are_refused(tmp_path):
    run = _record(tmp_path, "r1")
    other = _record(tmp_path / "x", "r1", campaign="federated-chat")
    (run / "crux" / "launch.json").write_text((other / "crux" / "launch.json").read_text())
    with pytest.raises(ChiaUsageError, match="different campaigns"):
        recorded_campaign(run)


def test_replay_settings_check_campaign_flags_and_live_model(tmp_path):
    run = _record(tmp_path, "r1")
    loaded = load_campaign(MCP)
    base = {"system": "local", "campaign": MCP, "agents": "agent-aurora"}
    assert replay_settings(SpawnRequest(**base, replay=run), loaded) == (run.resolve(), None)
    _, live = replay_settings(
        SpawnRequest(
            **base, replay=run, continue_live="vllm:q", llm_base_url="http://127.0.0.1:9/v1"
        ),
        loaded,
    )
    assert live is not None and (live.provider, live.model) == ("vllm", "q")
    other = load_campaign("federated-chat")
    with pytest.raises(ChiaUsageError, match="'federated-chat-mcp', not 'federated-chat'"):
        replay_settings(SpawnRequest(**base, replay=run), other)
    for extra, message in (
        ({"continue_live": "vllm:q"}, "needs --replay"),
        ({"replay": run, "model": "vllm:q"}, "does not combine with --replay"),
        ({"replay": run, "llm_base_url": "http://127.0.0.1:9"}, "need --continue-live"),
        ({"replay": run, "continue_live": "vllm:q"}, "needs lm.base_url"),
    ):
        with pytest.raises(ChiaUsageError, match=message):
            replay_settings(SpawnRequest(**base, **extra), loaded)


def test_a_replay_needs_no_key_but_a_live_model_does(tmp_path, monkeypatch):
    run = _record(tmp_path, "r1")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    loaded = load_campaign(MCP)
    request = SpawnRequest(
        system="local", campaign=MCP, agents="agent-aurora", replay=run, exchange="local"
    )
    launch, _, _ = prepare_site(
        SpawnRequest(**{**request.__dict__, "run_id": "again", "runs_dir": tmp_path / "new"})
    )
    assert launch.replay == run.resolve() and launch.lm is None
    with pytest.raises(ChiaUsageError, match="OPENAI_API_KEY"):
        replay_settings(
            SpawnRequest(**{**request.__dict__, "continue_live": "openai:gpt-5-mini"}), loaded
        )


def test_replay_ids_count_up_and_fit_the_name_rule(tmp_path):
    assert _replay_id(tmp_path, "run") == "run-replay-1"
    (tmp_path / "run-replay-1").mkdir()
    assert _replay_id(tmp_path, "run") == "run-replay-2"
    long = "r" * 64
    clipped = _replay_id(tmp_path, long)
    assert len(clipped) == 64 and clipped.endswith("-replay-1")


def test_newest_run_leaves_replays_out(tmp_path):
    old, new = _record(tmp_path, "demo-1"), _record(tmp_path, "demo-2")
    replay = _record(tmp_path, "demo-2-replay-1")
    for number, run in enumerate((old, new, replay)):
        for path in run.glob("*/launch.json"):
            os.utime(path, (1000 + number, 1000 + number))
    assert newest_run(tmp_path, "demo-") == new
    with pytest.raises(ChiaUsageError, match="no other-"):
        newest_run(tmp_path, "other-")
