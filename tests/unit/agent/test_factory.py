from __future__ import annotations

import pytest

from chia.agent import ScriptedPolicy
from chia.agent.factory import make_policy
from chia.campaign import load_campaign
from chia.errors import ChiaUsageError


def test_scripted_campaign_gets_the_scripted_policy():
    assert isinstance(make_policy(load_campaign("federated-chat").spec), ScriptedPolicy)


def test_scripted_provider_without_policy_section_is_a_usage_error():
    spec = load_campaign("federated-chat").spec.model_copy(update={"policy": None})
    with pytest.raises(ChiaUsageError, match="no 'policy' section"):
        make_policy(spec)
