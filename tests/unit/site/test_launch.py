from __future__ import annotations

import pytest
from pydantic import ValidationError

from chia.exchange import ExchangeSettings
from chia.site.launch import SiteLaunch, site_dir


def _launch(tmp_path, **kw):
    fields = dict(
        run_id="r1",
        site="aurora",
        profile="local",
        campaign_path=tmp_path / "c.jsonc",
        agents=["a", "b"],
        exchange=ExchangeSettings(kind="local"),
        launcher="local",
        site_dir=site_dir(tmp_path, "r1", "aurora"),
        startup_timeout_s=600,
        bootstrap=True,
    )
    fields.update(kw)
    return SiteLaunch(**fields)


def test_write_read_round_trip_and_rank_mapping(tmp_path):
    launch = _launch(tmp_path)
    path = launch.write()
    assert path == tmp_path / "r1" / "aurora" / "launch.json"
    again = SiteLaunch.read(path)
    assert again == launch
    assert again.process_count == 2
    assert [again.agents_for_rank(i) for i in range(2)] == [[0], [1]]
    with pytest.raises(IndexError, match="rank 2"):
        again.agents_for_rank(2)


def test_agents_per_process_packs_the_slice(tmp_path):
    launch = _launch(tmp_path, agents=["a", "b", "c", "d", "e"], agents_per_process=2)
    assert launch.process_count == 3
    assert [launch.agents_for_rank(r) for r in range(3)] == [[0, 1], [2, 3], [4]]


def test_launch_holds_no_secrets_and_rejects_bad_names(tmp_path):
    text = _launch(tmp_path).write().read_text()
    assert "key" not in text.lower()
    with pytest.raises(ValidationError):
        _launch(tmp_path, run_id="bad id")
    with pytest.raises(ValidationError):
        _launch(tmp_path, agents=[])
