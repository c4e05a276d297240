from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from chia.errors import ChiaUsageError
from chia.events import Note, iter_events, merge_events
from chia.testing.sample_run import write_generated_run
from chia.trace.timeline import MalformedEventLineError, find_run_dir, scan_run

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def _note(site: str, agent: str, clock: int, seconds: float) -> str:
    at = T0 + timedelta(seconds=seconds)
    return Note(
        run_id="r", site=site, agent=agent, clock=clock, timestamp=at, message="x"
    ).model_dump_json()


def _files(run: Path) -> list[Path]:
    return sorted(run.glob("*/events/*.jsonl"))


def test_order_is_the_causal_merge_of_every_file(tmp_path: Path) -> None:
    run = write_generated_run(tmp_path, events=3000, sites=3, agents=3, skew_s=1.5)
    timeline = scan_run(run)
    expected = [e.event_id for e in merge_events(iter_events(_files(run)))]
    assert timeline.total == len(expected) >= 3000
    assert [e.event_id for e in timeline.events()] == expected
    assert [e.event_id for e in timeline.events()] == expected  # re-readable
    assert timeline.origin == min(e.timestamp for e in iter_events(_files(run)))


def test_a_file_out_of_clock_order_is_sorted(tmp_path: Path) -> None:
    events = tmp_path / "run" / "aurora" / "events"
    events.mkdir(parents=True)
    (events / "a.jsonl").write_text(
        "\n".join(
            [_note("aurora", "a", 5, 0), _note("aurora", "a", 2, 1), _note("aurora", "a", 9, 2)]
        )
        + "\n"
    )
    (events / "b.jsonl").write_text(_note("aurora", "b", 5, 0) + "\n")
    order = [(e.agent, e.clock) for e in scan_run(tmp_path / "run").events()]
    assert order == [("a", 2), ("a", 5), ("b", 5), ("a", 9)]


def test_a_malformed_line_names_its_file_and_line(tmp_path: Path) -> None:
    events = tmp_path / "run" / "crux" / "events"
    events.mkdir(parents=True)
    bad = events / "c.jsonl"
    bad.write_text(_note("crux", "c", 1, 0) + "\n\n" + '{"kind": "note", "clock": 2}\n')
    with pytest.raises(MalformedEventLineError) as raised:
        scan_run(tmp_path / "run")
    assert (raised.value.path, raised.value.line) == (bad, 3)
    assert f"{bad}:3: not a valid event" in str(raised.value)
    assert raised.value.exit_code == 2


def test_a_torn_last_line_is_left_out(tmp_path: Path) -> None:
    events = tmp_path / "run" / "crux" / "events"
    events.mkdir(parents=True)
    (events / "c.jsonl").write_text(_note("crux", "c", 1, 0) + "\n" + _note("crux", "c", 2, 1)[:30])
    timeline = scan_run(tmp_path / "run")
    assert timeline.total == 1 and timeline.sources[0].torn_tail


def test_a_single_site_directory_is_a_run(tmp_path: Path) -> None:
    (tmp_path / "solo" / "events").mkdir(parents=True)
    (tmp_path / "solo" / "events" / "a.jsonl").write_text(_note("local", "a", 1, 0) + "\n")
    assert [e.site for e in scan_run(tmp_path / "solo").events()] == ["local"]


def test_missing_or_empty_runs_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(ChiaUsageError, match="no run directory"):
        scan_run(tmp_path / "nope")
    (tmp_path / "empty" / "aurora" / "events").mkdir(parents=True)
    with pytest.raises(ChiaUsageError, match="no events files"):
        scan_run(tmp_path / "empty")


def test_find_run_dir_takes_a_path_or_a_run_id(tmp_path: Path) -> None:
    run = write_generated_run(tmp_path, "g-1", events=10)
    assert find_run_dir(str(run), Path("elsewhere")) == run
    assert find_run_dir("g-1", tmp_path) == tmp_path / "g-1"
    with pytest.raises(ChiaUsageError, match="no run directory 'g-2'"):
        find_run_dir("g-2", tmp_path)
