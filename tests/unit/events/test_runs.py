from __future__ import annotations

from datetime import datetime, timezone

from chia.events import (
    AgentState,
    AgentStatus,
    EventWriter,
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
