from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

from chia.events import (
    EventFileCursor,
    EventWriter,
    Note,
    causal_key,
    merge_events,
    site_event_files,
)
from chia.events.reader import MAX_LINE_BYTES


def _write(path, n, site="s", writer="w"):
    with EventWriter(path, run_id="r", site=site, writer=writer) as w:
        return [w.emit(Note, message=str(i)) for i in range(n)]


def test_cursor_reads_incrementally_and_leaves_torn_tail(tmp_path, caplog):
    path = tmp_path / "events" / "w.jsonl"
    _write(path, 2)
    cursor = EventFileCursor(path)
    assert len(cursor.read_new()) == 2
    assert cursor.read_new() == []
    whole = Note(run_id="r", site="s", agent="w", clock=9, message="late").model_dump_json()
    with path.open("a") as handle:
        handle.write(whole[:25])  # a writer caught mid-line
    with caplog.at_level(logging.WARNING):
        assert cursor.read_new() == []
        assert cursor.read_new() == []
    assert cursor.torn_tail
    assert sum("incomplete last line" in r.message for r in caplog.records) == 1  # said once
    with path.open("a") as handle:
        handle.write(whole[25:] + "\n")
    assert [e.clock for e in cursor.read_new()] == [9]
    assert not cursor.torn_tail


def test_bad_lines_are_skipped_and_counted(tmp_path):
    path = tmp_path / "events" / "w.jsonl"
    _write(path, 1)
    with path.open("a") as handle:
        handle.write("not json\n")
        handle.write('{"kind": "unknown_kind"}\n')
    _write(path, 1)
    cursor = EventFileCursor(path)
    assert len(cursor.read_new()) == 2
    assert cursor.bad_lines == 2


def test_missing_file_reads_empty(tmp_path):
    assert EventFileCursor(tmp_path / "nope.jsonl").read_new() == []


def test_merge_orders_by_lamport_clock_before_wall_time(tmp_path):
    now = datetime.now(timezone.utc)
    # Site b's wall clock runs an hour behind, but its event causally follows a's.
    a = Note(run_id="r", site="a", agent="x", clock=1, message="send", timestamp=now)
    b = Note(
        run_id="r", site="b", agent="y", clock=2, message="recv", timestamp=now - timedelta(hours=1)
    )
    assert [e.message for e in merge_events([b, a])] == ["send", "recv"]


def test_site_event_files(tmp_path):
    _write(tmp_path / "events" / "b.jsonl", 1)
    _write(tmp_path / "events" / "a.jsonl", 1)
    assert [p.name for p in site_event_files(tmp_path)] == ["a.jsonl", "b.jsonl"]


def test_keyed_read_checks_headers_and_orders_like_causal_key(tmp_path):
    path = tmp_path / "events" / "w.jsonl"
    written = _write(path, 2)
    good = written[0].model_dump_json()
    with path.open("a") as handle:
        handle.write(good.replace('"note"', '"mystery"') + "\n")  # undeclared kind
        handle.write(good.replace('"clock":1', '"clock":-4') + "\n")  # negative clock
        handle.write(good.replace("Z", "") + "\n")  # a timestamp without a time zone
        handle.write(good[:-1] + ",\n")  # broken JSON
    cursor = EventFileCursor(path)
    keyed = cursor.read_new_keyed()
    assert [key for key, _ in keyed] == [causal_key(e) for e in written]
    assert [line for _, line in keyed] == [e.model_dump_json().encode() for e in written]
    assert cursor.bad_lines == 4


def test_keyed_read_skips_a_runaway_line_and_strips_padded_ones(tmp_path):
    path = tmp_path / "events" / "w.jsonl"
    written = _write(path, 2)
    good = written[0].model_dump_json()
    huge = good.replace('"message":"0"', '"message":"' + "x" * MAX_LINE_BYTES + '"')
    with path.open("a") as handle:
        handle.write(huge + "\n")  # a valid event, but over the limit
        handle.write("   \n")  # blank: not an event, not an error
        handle.write(f"  {good}\r\n")  # padded: kept, without the padding
    cursor = EventFileCursor(path)
    keyed = cursor.read_new_keyed()
    assert cursor.bad_lines == 1
    assert [line for _, line in keyed] == [e.model_dump_json().encode() for e in written] + [
        good.encode()
    ]
