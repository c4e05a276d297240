from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chia.events import (
    AgentFinished,
    AgentRestarted,
    AgentRunning,
    BootstrapDispatched,
    Decision,
    EventWriter,
    MessageAcked,
    MessageReceived,
    MessageSent,
    ResultSubmitted,
    events_path,
)
from chia.testing.faults import (
    TABLE_COLUMNS,
    FaultRow,
    RunFigures,
    analyze_run,
    format_table,
    write_table,
)

T0 = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)


def _writer(run, site, agent):
    return EventWriter(events_path(run / site, agent), run_id="r", site=site, writer=agent)


def _message(kind, message_id, sender, recipient, message_kind="chat"):
    return {
        "kind": kind,
        "message_id": message_id,
        "sender": sender,
        "recipient": recipient,
        "message_kind": message_kind,
        "round": 1,
    }


def _send(w, message_id, recipient, message_kind="chat"):
    fields = _message(MessageSent, message_id, w.writer, recipient, message_kind)
    w.emit(fields.pop("kind"), **fields)


def _receive(w, message_id, sender, message_kind="chat"):
    fields = _message(MessageReceived, message_id, sender, w.writer, message_kind)
    w.emit(fields.pop("kind"), **fields)


def _decide(w, consumed, sent=()):
    w.emit(Decision, round=1, policy="p", actions=[], consumed=list(consumed), sent=list(sent))


def _a_run(tmp_path):
    """aurora sends m1..m3 (m3 is lost), crux decides m2 twice across a restart."""
    run = tmp_path / "runs" / "r"
    with _writer(run, "aurora", "agent-aurora") as aurora:
        aurora.emit(BootstrapDispatched, recipient="agent-aurora", message_id="k")
        _receive(aurora, "k", "campaign", "kickoff")
        for i in ("m1", "m2", "m3"):
            _send(aurora, i, "agent-crux")
        _send(aurora, "uncommitted", "agent-crux")  # its turn never committed: not sent
        _decide(aurora, ["k"], ["m1", "m2", "m3"])
        aurora.emit(MessageAcked, message_id="m1", recipient="agent-crux")
        aurora.emit(MessageAcked, message_id="m2", recipient="agent-crux", attempts=2)
        aurora.emit(MessageAcked, message_id="m2", recipient="agent-crux", attempts=3)
    with _writer(run, "crux", "agent-crux") as crux:
        crux.emit(AgentRunning, timestamp=T0)
        _receive(crux, "m1", "agent-aurora")
        _receive(crux, "m2", "agent-aurora")
        _receive(crux, "uncommitted", "agent-aurora")
        _decide(crux, ["m1", "m2"])
    with _writer(run, "crux", "agent-crux") as crux:  # the next incarnation, same file
        crux.emit(AgentRestarted, restart=1, cause="signal 9", timestamp=T0 + timedelta(seconds=1))
        _receive(crux, "m2", "agent-aurora")  # the sender's retry, not dropped: the bug
        crux.emit(AgentRunning, timestamp=T0 + timedelta(seconds=1.75))
        _decide(crux, ["m2"])
    with _writer(run, "crux", "site") as site:  # the site's own writer has no messages
        site.emit(AgentRunning)
    return run


def test_counts_committed_sends_acks_deliveries_losses_and_duplicates(tmp_path):
    figures = analyze_run(_a_run(tmp_path), killed_at=T0 + timedelta(seconds=0.5))
    assert figures.sent == 4  # the kickoff and m1..m3; the uncommitted send is not
    assert figures.acknowledged == 3  # m1, m2 (twice, counted once) and the kickoff
    assert figures.delivered == 4  # k, m1, m2 (twice, counted once), uncommitted
    assert (figures.lost, figures.lost_ids) == (1, ("m3",))
    assert (figures.duplicates_decided, figures.duplicate_ids) == (1, ("m2",))
    assert figures.recovery_s == pytest.approx(1.25)


def test_no_kill_no_recovery_and_a_torn_last_line_is_skipped(tmp_path):
    run = _a_run(tmp_path)
    with (run / "crux" / "events" / "agent-crux.jsonl").open("a") as handle:
        handle.write('{"kind": "decision", "consumed": ["m3"')  # cut short by a kill
    figures = analyze_run(run)
    assert figures.recovery_s is None
    assert figures.duplicates_decided == 1 and figures.lost == 1


def test_a_restart_before_the_kill_does_not_count_as_recovery(tmp_path):
    figures = analyze_run(_a_run(tmp_path), killed_at=T0 + timedelta(seconds=5))
    assert figures.recovery_s is None


def test_a_complete_notice_to_a_peer_that_completed_on_its_own_is_not_lost(tmp_path):
    run = tmp_path / "r"
    with _writer(run, "aurora", "a") as a, _writer(run, "crux", "b") as b:
        _send(a, "done-a", "b", "complete")
        _send(b, "done-b", "a", "complete")
        _decide(a, [], ["done-a"])
        _decide(b, [], ["done-b"])
        a.emit(ResultSubmitted, result="x")
        _receive(a, "done-b", "b", "complete")
        a.emit(AgentFinished, reason="completed", decisions=1)
        b.emit(AgentFinished, reason="completed", decisions=1)  # b never got done-a
    figures = analyze_run(run)
    assert (figures.sent, figures.delivered, figures.lost) == (2, 1, 0)
    assert figures.results == ("x",)
    with _writer(run, "crux", "c") as c:  # c stopped without completing: its notice is lost
        _send(c, "done-c", "d", "complete")
        _decide(c, [], ["done-c"])
        c.emit(AgentFinished, reason="idle_timeout", decisions=1)
    with _writer(run, "crux", "d") as d:
        d.emit(AgentFinished, reason="idle_timeout", decisions=0)
    assert analyze_run(run).lost_ids == ("done-c",)


def test_a_run_dir_without_events_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no event files"):
        analyze_run(tmp_path)


def test_table_has_the_suite_columns_and_one_line_per_row(tmp_path):
    rows = [
        FaultRow("baseline", "local", "http", RunFigures(1001, 1001, 1001, 0, 0, None)),
        FaultRow("sigkill", "ray", "redis", RunFigures(1002, 1000, 1002, 0, 0, 1.234)),
    ]
    table = format_table(rows)
    lines = table.splitlines()
    assert lines[0] == "| " + " | ".join(TABLE_COLUMNS) + " |"
    assert lines[0].startswith("| scenario | launcher | exchange | messages sent |")
    assert lines[2] == "| baseline | local | http | 1001 | 1001 | 1001 | 0 | 0 | - |"
    assert lines[3] == "| sigkill | ray | redis | 1002 | 1000 | 1002 | 0 | 0 | 1.23 |"
    path = tmp_path / "artifacts" / "faults.md"
    write_table(rows, path)
    assert path.read_text() == "# Fault suite\n\n" + table
