from __future__ import annotations

from datetime import datetime, timezone

from chia.events import (
    AgentState,
    AgentStatus,
    EventWriter,
    LLMCall,
    MessageSent,
    ResultSubmitted,
    write_snapshot,
)
from chia.events.runs import find_runs, summarize_run


def _site(run, site, agent, peer):
    write_snapshot(
        run / site / "status" / f"{agent}.json",
        AgentStatus(
            run_id="r",
            site=site,
            agent=agent,
            uid="u",
            state=AgentState.FINISHED,
            updated=datetime.now(timezone.utc),
        ),
    )
    with EventWriter(
        run / site / "events" / f"{agent}.jsonl", run_id="r", site=site, writer=agent
    ) as writer:
        writer.emit(
            MessageSent, message_id="m", sender=agent, recipient=peer, message_kind="chat", round=1
        )
        writer.emit(ResultSubmitted, result="done")


def test_summary_counts_cross_site_messages(tmp_path):
    run = tmp_path / "r"
    _site(run, "aurora", "a", "b")
    _site(run, "crux", "b", "a")
    (tmp_path / "not-a-run").mkdir()
    assert find_runs(tmp_path) == [run]
    summary = summarize_run(run)
    assert [s.site for s in summary.sites] == ["aurora", "crux"]
    assert summary.agents == 2
    assert all(s.messages == s.cross_site_messages == 1 for s in summary.sites)
    assert summary.sites[0].results == ["done"]
    assert find_runs(tmp_path / "missing") == []


def test_summary_sums_model_cost_per_agent_site_and_run(tmp_path):
    run = tmp_path / "r"
    calls = {
        ("aurora", "a"): [(0.5, True), (None, True), (None, False)],
        ("aurora", "c"): [(0.25, True)],
        ("crux", "b"): [(1.0, True), (2.0, True)],
    }
    for (site, agent), costs in calls.items():
        path = run / site / "events" / f"{agent}.jsonl"
        with EventWriter(path, run_id="r", site=site, writer=agent) as writer:
            for cost, ok in costs:
                writer.emit(
                    LLMCall, provider="p", model="m", latency_s=0.1, tokens_in=100,
                    tokens_out=10, tokens_cached=40, cost_usd=cost, success=ok,
                )  # fmt: skip
    summary = summarize_run(run)
    aurora, crux = summary.sites
    a = aurora.usage["a"]
    assert (a.calls, a.cost_usd, a.unpriced_calls, a.tokens_cached) == (3, 0.5, 1, 120)
    assert a.cost_text() == "$0.500000 + 1 unpriced call(s)"
    assert aurora.model_usage.cost_usd == 0.75 and aurora.model_usage.calls == 4
    assert crux.model_usage.cost_text() == "$3.000000"
    total = summary.model_usage
    assert (total.calls, total.cost_usd, total.unpriced_calls) == (6, 3.75, 1)
    assert total.tokens_in == 600 and total.tokens_out == 60
