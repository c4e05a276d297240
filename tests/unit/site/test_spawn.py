from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from chia.errors import ChiaUsageError
from chia.events import (
    AgentFinished,
    AgentState,
    AgentStatus,
    EventWriter,
    events_path,
    write_snapshot,
)
from chia.profiles import load_profile
from chia.site.spawn import SpawnRequest, exchange_settings, failures, prepare_site


def test_exchange_settings_from_flags_and_profile():
    assert exchange_settings("http", "http://127.0.0.1:9").url == "http://127.0.0.1:9"
    redis = exchange_settings("redis", "redis://127.0.0.1:6400/4")
    assert (redis.redis_port, redis.redis_db) == (6400, 4)
    assert exchange_settings("local", None).kind == "local"
    assert exchange_settings(None, "http://127.0.0.1:1", load_profile("local")).kind == "http"
    with pytest.raises(ChiaUsageError, match="--exchange-url"):
        exchange_settings("http", None)
    with pytest.raises(ChiaUsageError):
        exchange_settings("http", "ftp://x")


def test_prepare_site_writes_the_launch_file(tmp_path):
    request = SpawnRequest(
        system="local",
        campaign="federated-chat",
        agents="agent-crux",
        site="crux",
        exchange="local",
        runs_dir=tmp_path,
        run_id="prep-1",
    )
    launch, profile, loaded = prepare_site(request)
    written = json.loads((tmp_path / "prep-1" / "crux" / "launch.json").read_text())
    assert written["agents"] == ["agent-crux"] and written["site"] == "crux"
    assert written["campaign_path"] == str(loaded.path)
    assert launch.launcher == profile.launcher.kind == "local"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"run_id": "bad id"}, "invalid run id"),
        ({"site": "b/d"}, "invalid site"),
        ({"agents": "agent-x"}, "unknown agent"),
        ({"system": "nowhere"}, "no such profile"),
    ],
)
def test_prepare_site_rejects_bad_input(tmp_path, change, message):
    fields = dict(
        system="local",
        campaign="federated-chat",
        agents="agent-crux",
        exchange="local",
        runs_dir=tmp_path,
    )
    fields.update(change)
    with pytest.raises(ChiaUsageError, match=message):
        prepare_site(SpawnRequest(**fields))


def _request(tmp_path, **extra):
    return SpawnRequest(
        system="local",
        campaign="federated-chat",
        agents="agent-crux",
        site="crux",
        exchange="local",
        runs_dir=tmp_path,
        run_id="res-1",
        **extra,
    )


def test_a_site_dir_with_events_needs_resume(tmp_path):
    launch, _, _ = prepare_site(_request(tmp_path, max_restarts=5, fsync="message"))
    assert (launch.max_restarts, launch.fsync, launch.resume) == (5, "message", False)
    events = launch.site_dir / "events"
    events.mkdir()
    (events / "agent-crux.jsonl").write_text("")
    prepare_site(_request(tmp_path))  # an empty events file is no run yet
    (events / "agent-crux.jsonl").write_text('{"clock": 1}\n')
    with pytest.raises(ChiaUsageError, match="--resume") as caught:
        prepare_site(_request(tmp_path))
    assert str(launch.site_dir) in str(caught.value) and caught.value.exit_code == 2
    resumed, _, _ = prepare_site(_request(tmp_path, resume=True))
    written = json.loads(resumed.path.read_text())
    assert written["resume"] is True and resumed.site_dir == launch.site_dir


def _status(launch, agent, state, **fields):
    write_snapshot(
        launch.site_dir / "status" / f"{agent}.json",
        AgentStatus(
            run_id=launch.run_id,
            site=launch.site,
            agent=agent,
            uid="u",
            state=state,
            updated=datetime.now(timezone.utc),
            **fields,
        ),
    )


def test_failures_name_each_agent_that_did_not_complete(tmp_path):
    launch, _, _ = prepare_site(
        SpawnRequest(
            system="local",
            campaign="federated-chat",
            agents="agent-aurora,agent-crux",
            site="both",
            exchange="local",
            runs_dir=tmp_path,
            run_id="fail-1",
        )
    )
    assert failures(launch, ["completed"]) == {
        "agent-aurora": "never started (no status file)",
        "agent-crux": "never started (no status file)",
    }
    _status(launch, "agent-aurora", AgentState.FINISHED, finish_reason="idle_timeout")
    _status(launch, "agent-crux", AgentState.FAILED, last_error="gave up after 3 restarts (x)")
    assert failures(launch, ["completed"]) == {
        "agent-aurora": "stopped on idle_timeout before the campaign completed",
        "agent-crux": "gave up after 3 restarts (x)",
    }
    assert "agent-aurora" not in failures(launch, ["completed", "idle_timeout"])
    # Without finish_reason in the status, the agent's last agent_finished event says why.
    _status(launch, "agent-crux", AgentState.FINISHED)
    writer = EventWriter(
        events_path(launch.site_dir, "agent-crux"),
        run_id="fail-1",
        site="both",
        writer="agent-crux",
    )
    writer.emit(AgentFinished, reason="max_decisions", decisions=3)
    writer.emit(AgentFinished, reason="completed", decisions=4)
    writer.close()
    assert "agent-crux" not in failures(launch, ["completed"])
