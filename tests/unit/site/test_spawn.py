from __future__ import annotations

import json

import pytest

from chia.errors import ChiaUsageError
from chia.profiles import load_profile
from chia.site.spawn import SpawnRequest, exchange_settings, prepare_site


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
