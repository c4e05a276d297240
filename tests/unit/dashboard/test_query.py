"""Aggregates and filtered timeline pages over a generated multi-site run."""

from __future__ import annotations

import json

import pytest

from chia.dashboard.query import MAX_PAGE, QueryError, parse_timeline_query
from chia.dashboard.store import RunStore
from chia.testing.sample_run import write_generated_run


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> RunStore:
    root = tmp_path_factory.mktemp("gen")
    run = write_generated_run(root, "q-1", events=3000, sites=3, agents=4, skew_s=2.0)
    loaded = RunStore(run, "q-1")
    loaded.refresh()
    return loaded


def _all(store: RunStore) -> list[dict]:
    return json.loads(store.events_json()[1])["events"]


def _page(store: RunStore, **params: str) -> dict:
    query = parse_timeline_query(params, **store.known_values())
    return json.loads(store.timeline_json(query))


def test_aggregates_add_up_to_the_events(store: RunStore) -> None:
    events = _all(store)
    doc = store.aggregates_json()
    assert sum(s["events"] for s in doc["sites"]) == len(events)
    assert sum(a["events"] for a in doc["agents"]) == len(events)
    assert doc["agent_count"] == len({(e["site"], e["agent"]) for e in events})
    received = [e for e in events if e["kind"] == "message_received"]
    assert sum(p["messages"] for p in doc["site_pairs"]) == len(received)
    site_of = {e["agent"]: e["site"] for e in events}
    expected: dict[tuple[str, str], int] = {}
    for e in received:
        pair = (e.get("sender_site") or site_of[e["sender"]], e["site"])
        expected[pair] = expected.get(pair, 0) + 1
    assert {(p["from"], p["to"]): p["messages"] for p in doc["site_pairs"]} == expected
    tokens = sum(e.get("tokens_in", 0) for e in events if e["kind"] == "llm_call")
    assert sum(s["tokens_in"] for s in doc["sites"]) == tokens
    assert len(store.aggregates_json(top_agents=3)["agents"]) == 3


def test_cost_adds_up_per_agent_per_site_and_for_the_run(store: RunStore) -> None:
    calls = [e for e in _all(store) if e["kind"] == "llm_call"]
    doc = store.aggregates_json()
    by_agent: dict[tuple[str, str], list[dict]] = {}
    for call in calls:
        by_agent.setdefault((call["site"], call["agent"]), []).append(call)
    for row in doc["agents"]:
        mine = by_agent.get((row["site"], row["agent"]), [])
        priced = [c["cost_usd"] for c in mine if c["cost_usd"] is not None]
        assert row["model_calls"] == len(mine)
        assert row["cost_usd"] == pytest.approx(sum(priced))
        assert row["unpriced_calls"] == len(mine) - len(priced)
        assert row["tokens_cached"] == sum(c["tokens_cached"] for c in mine)
    for row in doc["sites"]:
        mine = [c for c in calls if c["site"] == row["site"]]
        assert row["cost_usd"] == pytest.approx(sum(c["cost_usd"] or 0 for c in mine))
    run = doc["run"]
    assert run["cost_usd"] > 0
    assert run["cost_usd"] == pytest.approx(sum(c["cost_usd"] or 0 for c in calls))
    assert run["unpriced_calls"] == sum(c["cost_usd"] is None for c in calls) > 0
    assert run["model_calls"] == len(calls) and run["sites"] == len(doc["sites"])


def test_pages_walk_the_whole_timeline_newest_first_without_gaps(store: RunStore) -> None:
    everything = [e["seq"] for e in _all(store)]
    seen: list[int] = []
    before = ""
    while True:
        doc = _page(store, limit="700", before=before)
        seen += [e["seq"] for e in doc["events"]]
        if doc["before"] is None:
            break
        before = doc["before"]
    assert seen == list(reversed(everything))


def test_filters_keep_exactly_the_matching_events(store: RunStore) -> None:
    events = _all(store)
    site, agent = events[0]["site"], events[-1]["agent"]
    doc = _page(store, site=site, kind="message_sent,llm_call", limit=str(MAX_PAGE))
    want = [
        e["seq"] for e in events if e["site"] == site and e["kind"] in {"message_sent", "llm_call"}
    ]
    assert [e["seq"] for e in doc["events"]] == list(reversed(want))
    clocks = _page(store, agent=agent, clock_from="5", clock_to="40", limit=str(MAX_PAGE))
    want = [e["seq"] for e in events if e["agent"] == agent and 5 <= e["clock"] <= 40]
    assert [e["seq"] for e in clocks["events"]] == list(reversed(want)) and want
    needle = events[len(events) // 2]["event_id"]
    assert [e["event_id"] for e in _page(store, text=needle.upper())["events"]] == [needle]
    middle = events[len(events) // 2]["timestamp"]
    later = _page(store, time_from=middle, limit=str(MAX_PAGE))["events"]
    assert later and all(e["timestamp"] >= middle for e in later)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"site": "nowhere"}, "site: unknown nowhere"),
        ({"agent": "ghost"}, "agent: unknown ghost"),
        ({"kind": "bogus_kind"}, "kind: unknown bogus_kind"),
        ({"limit": "0"}, f"limit must be between 1 and {MAX_PAGE}"),
        ({"limit": str(10**9)}, f"limit must be between 1 and {MAX_PAGE}"),
        ({"limit": "ten"}, "limit must be an integer"),
        ({"before": "not-a-cursor!"}, "before: not a cursor"),
        ({"before": "W10"}, "before: not a cursor"),
        ({"clock_from": "1.5"}, "clock_from must be an integer"),
        ({"time_from": "yesterday"}, "time_from must be seconds since the epoch"),
        ({"time_to": "2026-01-01T00:00:00"}, "time_to needs a time zone"),
        ({"text": "x" * 201}, "text: at most 200 characters"),
    ],
)
def test_bad_queries_say_which_parameter(store: RunStore, params: dict, reason: str) -> None:
    with pytest.raises(QueryError, match=reason.replace("(", r"\(")):
        parse_timeline_query(params, **store.known_values())
