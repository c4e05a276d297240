from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from chia.campaign import CampaignSpec


def two_agent_campaign(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "pair",
        "user_task": "say hello",
        "initial_agent": "a",
        "agents": [
            {"name": "a", "role": "r", "mission": "m", "allowed_peers": ["b"], "site": "s1"},
            {"name": "b", "role": "r", "mission": "m", "allowed_peers": ["a"], "site": "s2"},
        ],
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_spec() -> Callable[..., CampaignSpec]:
    return lambda **kw: CampaignSpec.model_validate(two_agent_campaign(**kw))


@pytest.fixture
def write_campaign(tmp_path: Path, federated_chat_dir: Path) -> Callable[..., Path]:
    """Write a campaign directory (with the packaged prompt profile) and return its file."""

    def write(data: dict[str, Any] | str, name: str = "c") -> Path:
        directory = tmp_path / name
        shutil.copytree(federated_chat_dir / "prompt_profiles", directory / "prompt_profiles")
        path = directory / "campaign.jsonc"
        path.write_text(data if isinstance(data, str) else json.dumps(data, indent=2))
        return path

    return write


@pytest.fixture
def campaign_data() -> Callable[..., dict[str, Any]]:
    """Raw campaign JSON for two agents a (site s1) and b (site s2), with overrides."""
    return two_agent_campaign
