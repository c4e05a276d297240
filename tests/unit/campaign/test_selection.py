from __future__ import annotations

import pytest

from chia.campaign import parse_agent_list, select_agents
from chia.errors import ChiaUsageError


def test_parse_trims_and_skips_empty_segments():
    assert parse_agent_list(" a , b,,c ,") == ["a", "b", "c"]
    assert parse_agent_list("") == []


def test_select_keeps_campaign_order(make_spec):
    spec = make_spec()
    assert select_agents(spec, "b, a").agent_names == ["a", "b"]
    sliced = select_agents(spec, ["b"])
    assert sliced.agent_names == ["b"]
    assert sliced.initial_agent == "a"  # may live on another site


@pytest.mark.parametrize(
    ("selection", "message"),
    [("a,a", "selected twice"), ("a,zed", "unknown agent"), (" , ", "no agents selected")],
)
def test_select_rejects_bad_selections(make_spec, selection, message):
    with pytest.raises(ChiaUsageError, match=message):
        select_agents(make_spec(), selection)
