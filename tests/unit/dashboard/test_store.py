from __future__ import annotations

import json

from chia.dashboard.store import RunStore
from chia.events import EventWriter, Note, events_path
from chia.testing.sample_run import write_two_site_run


def _events(store: RunStore, after: int = 0) -> tuple[int, list[dict]]:
    cursor, body = store.events_json(after)
    doc = json.loads(body)
    assert doc["cursor"] == cursor
    return cursor, doc["events"]


def test_merges_sites_in_causal_order_with_sequence_numbers(two_site_run):
    store = RunStore(two_site_run, "run-1")
    assert store.refresh() == 6
    cursor, events = _events(store)
    assert cursor == 6
    keys = [(e["clock"], e["timestamp"]) for e in events]
    assert keys == sorted(keys)
    assert {e["site"] for e in events} == {"aurora", "crux"}
    assert sorted(e["seq"] for e in events) == list(range(1, 7))
    assert events[-1]["kind"] == "message_received"  # clock 10 sorts last


def test_after_returns_only_new_events_even_when_they_sort_earlier(two_site_run):
    store = RunStore(two_site_run, "run-1")
    store.refresh()
    with EventWriter(
        events_path(two_site_run / "crux", "late"), run_id="run-1", site="crux", writer="late"
    ) as writer:
        writer.emit(Note, message="late but early")  # clock 1
    assert store.refresh() == 1
    assert store.refresh() == 0
    cursor, new = _events(store, after=6)
    assert cursor == 7 and [e["message"] for e in new] == ["late but early"]
    _, everything = _events(store)
    assert everything[0]["clock"] == 1 and len(everything) == 7
    keys = [(e["clock"], e["timestamp"], e["site"], e["agent"]) for e in everything]
    assert keys == sorted(keys)


def test_torn_and_malformed_lines_are_skipped_and_counted(two_site_run):
    path = two_site_run / "aurora" / "events" / "agent-a.jsonl"
    with path.open("ab") as handle:
        handle.write(b'{"kind": "no_such_kind"}\nnot json at all\n{"schema_version": 1, "ev')
    store = RunStore(two_site_run, "run-1")
    assert store.refresh() == 6
    aurora = next(s for s in store.site_counts() if s["site"] == "aurora")
    assert aurora["bad_lines"] == 2 and aurora["torn_files"] == 1
    assert store.bad_lines() == 2


def test_site_counts_exclude_the_site_writer(two_site_run):
    store = RunStore(two_site_run, "run-1")
    store.refresh()
    counts = {s["site"]: s for s in store.site_counts()}
    assert counts["aurora"]["agents"] == ["agent-a"] and counts["aurora"]["events"] == 3
    assert counts["crux"]["events"] == 3


def test_run_dir_that_appears_later(tmp_path):
    store = RunStore(tmp_path / "later", "later")
    assert store.refresh() == 0 and store.snapshots() == []
    write_two_site_run(tmp_path, "later")
    assert store.refresh() == 6


def test_snapshot_version_moves_only_on_change(two_site_run):
    store = RunStore(two_site_run, "run-1")
    first = store.snapshots()
    version = store.snapshot_version
    assert store.snapshots() is first and store.snapshot_version == version
    status = two_site_run / "crux" / "status" / "agent-c.json"
    data = json.loads(status.read_text())
    data["state"] = "finished"
    status.write_text(json.dumps(data) + "\n")
    states = {a["agent"]: a["state"] for s in store.snapshots() for a in s["status"]["agents"]}
    assert states == {"agent-a": "running", "agent-c": "finished"}
    assert store.snapshot_version == version + 1
