from __future__ import annotations

from datetime import datetime, timezone

from chia.events import AgentState, AgentStatus, read_snapshot, write_snapshot


def test_status_round_trip_and_atomic_write(tmp_path):
    status = AgentStatus(
        run_id="r",
        site="s",
        agent="a",
        uid="u",
        state=AgentState.RUNNING,
        updated=datetime.now(timezone.utc),
    )
    path = tmp_path / "status" / "a.json"
    write_snapshot(path, status)
    assert read_snapshot(path, AgentStatus) == status
    assert [p.name for p in path.parent.iterdir()] == ["a.json"]  # no temp file left


def test_unreadable_snapshot_is_none(tmp_path):
    path = tmp_path / "s.json"
    assert read_snapshot(path, AgentStatus) is None
    path.write_text("{half")
    assert read_snapshot(path, AgentStatus) is None
