from __future__ import annotations

import sys

import pytest

from chia.campaign import load_campaign
from chia.testing.campaigns import time_until_running, write_campaign_dir


def test_generated_campaign_loads_and_validates(tmp_path):
    agents = [
        {"name": "a", "role": "r", "mission": "m", "allowed_peers": ["b"]},
        {"name": "b", "role": "r", "mission": "m", "allowed_peers": ["a"]},
    ]
    directory = write_campaign_dir(tmp_path, "gen", agents, run_id="gen-1")
    loaded = load_campaign(directory)
    assert loaded.spec.initial_agent == "a" and loaded.spec.run_id == "gen-1"


def test_time_until_running_reports_a_site_that_exits(tmp_path):
    with pytest.raises(RuntimeError, match="failed or exited"):
        time_until_running([[sys.executable, "-c", "pass"]], tmp_path, 1, timeout_s=10)
