from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from chia.events import (
    SITE_WRITER,
    Decision,
    EventBase,
    LLMCall,
    MessageReceived,
    MessageSent,
    SiteStarted,
)
from chia.testing.sample_run import write_generated_run
from chia.testing.trace_format import check_trace
from chia.trace.perfetto import ExportStats, write_perfetto
from chia.trace.timeline import scan_run

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
MSG = {"message_kind": "chat", "round": 1}


def _at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def _write(run: Path, *events: EventBase) -> None:
    for event in events:
        path = run / event.site / "events" / f"{event.agent}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as handle:
            handle.write(event.model_dump_json() + "\n")


def _export(run: Path) -> tuple[dict[str, Any], ExportStats]:
    out = io.BytesIO()
    stats = write_perfetto(scan_run(run), out.write)
    doc = json.loads(out.getvalue())
    summary = check_trace(doc)
    assert summary.problems == []
    return doc, stats


def _common(site: str, agent: str, clock: int, seconds: float) -> dict[str, Any]:
    return {"run_id": "r", "site": site, "agent": agent, "clock": clock, "timestamp": _at(seconds)}


def _send(site: str, agent: str, clock: int, seconds: float, mid: str, to: str) -> MessageSent:
    common = _common(site, agent, clock, seconds)
    return MessageSent(**common, message_id=mid, sender=agent, recipient=to, **MSG)


def _recv(site: str, agent: str, clock: int, seconds: float, mid: str, frm: str) -> MessageReceived:
    common = _common(site, agent, clock, seconds)
    return MessageReceived(**common, message_id=mid, sender=frm, recipient=agent, **MSG)


def _named(doc: dict[str, Any], ph: str) -> list[dict[str, Any]]:
    return [e for e in doc["traceEvents"] if e["ph"] == ph]


def test_a_process_per_site_and_a_thread_per_writer_in_order(tmp_path: Path) -> None:
    start = SiteStarted(
        **_common("crux", SITE_WRITER, 1, 0), launcher="l", agents=[], exchange="x", host="h"
    )
    _write(
        tmp_path,
        _send("crux", "zed", 2, 1, "m1", "amy"),
        start,
        _recv("aurora", "amy", 3, 2, "m1", "zed"),
        _send("crux", "bob", 1, 0, "m2", "amy"),
    )
    (tmp_path / "crux" / "events" / "new.jsonl").write_text("")  # an agent yet to write
    doc, stats = _export(tmp_path)
    summary = check_trace(doc)
    assert summary.processes == {1: "site aurora", 2: "site crux"}
    assert sorted(summary.threads.items()) == [
        ((1, 1), "amy"),
        ((2, 2), "site (launcher)"),
        ((2, 3), "bob"),
        ((2, 4), "zed"),
    ]
    sorts = {
        (e["name"], e["tid"]): e["args"]["sort_index"]
        for e in _named(doc, "M")
        if "sort" in e["name"]
    }
    assert sorts[("process_sort_index", 1)] == 1 and sorts[("process_sort_index", 2)] == 2
    assert [sorts[("thread_sort_index", tid)] for tid in (1, 2, 3, 4)] == [1, 2, 3, 4]
    assert stats.tracks == {"aurora": ["amy"], "crux": [SITE_WRITER, "bob", "zed"]}


def test_model_calls_are_slices_and_decisions_instants(tmp_path: Path) -> None:
    call = LLMCall(
        **_common("aurora", "amy", 2, 10),
        provider="openai",
        model="gpt",
        latency_s=2.5,
        tokens_in=7,
    )
    turn = Decision(
        **_common("aurora", "amy", 3, 11), round=4, policy="llm", actions=["send_message"]
    )
    _write(tmp_path, _send("aurora", "amy", 1, 7, "m0", "bob"), call, turn)
    doc, stats = _export(tmp_path)
    llm = next(e for e in _named(doc, "X") if e["cat"] == "llm")
    assert (llm["name"], llm["ts"], llm["dur"]) == ("openai:gpt", 500_000, 2_500_000)
    assert llm["args"] == {
        "clock": 2,
        "provider": "openai",
        "model": "gpt",
        "tokens_in": 7,
        "latency_s": 2.5,
    }
    instant = _named(doc, "i")[0]
    assert (instant["name"], instant["cat"], instant["s"]) == (
        "decision r4: send_message",
        "decision",
        "t",
    )
    assert instant["ts"] == 4_000_000  # microseconds since the earliest event
    assert (stats.slices, stats.instants, stats.flows, stats.unreceived_sends) == (2, 1, 0, 1)


def test_each_delivered_message_is_one_flow_from_sender_to_receiver(tmp_path: Path) -> None:
    _write(
        tmp_path,
        _send("aurora", "amy", 1, 0, "m1", "bob"),
        _recv("crux", "bob", 2, 1, "m1", "amy"),
        _recv("crux", "bob", 3, 2, "m1", "amy"),  # delivered twice: one arrow
        _send("aurora", "amy", 4, 3, "m2", "bob"),  # never received: no arrow
        _recv("crux", "bob", 5, 4, "m9", "eve"),  # sent by a writer not in the run
    )
    doc, stats = _export(tmp_path)
    ((start, finish),) = check_trace(doc).flows
    assert (start["pid"], start["tid"], finish["pid"], finish["tid"]) == (1, 1, 2, 2)
    assert start["id"] == finish["id"] and start["cat"] == finish["cat"] == "message"
    assert finish["bp"] == "e" and start["ts"] == 0.5 and finish["ts"] == 1_000_000.5
    sends = [e for e in _named(doc, "X") if e["name"].startswith("send")]
    assert [e["name"] for e in sends] == ["send chat → bob", "send chat → bob"]
    assert (stats.flows, stats.unreceived_sends, stats.unmatched_receipts) == (1, 1, 2)


def test_a_receipt_stamped_before_its_send_is_moved_after_it(tmp_path: Path) -> None:
    _write(
        tmp_path,
        _send("aurora", "amy", 1, 10, "m1", "bob"),
        _recv("crux", "bob", 2, 7, "m1", "amy"),  # crux's clock is 3 s behind
        Decision(**_common("crux", "bob", 3, 7.5), round=1, policy="llm", actions=[]),
    )
    doc, stats = _export(tmp_path)
    recv = next(e for e in _named(doc, "X") if e["name"].startswith("recv"))
    assert recv["ts"] == 3_000_001.25 and recv["args"]["skew_us"] == 3_000_001 - 0
    decision = _named(doc, "i")[0]
    assert decision["ts"] == 3_000_002 and decision["args"]["shifted_us"] == 2_500_002
    ((start, finish),) = check_trace(doc).flows
    assert finish["ts"] > start["ts"]
    assert (stats.skew_adjusted, stats.shifted) == (1, 1)


def test_events_are_written_in_causal_order(tmp_path: Path) -> None:
    run = write_generated_run(tmp_path, events=2000, sites=3, agents=2, skew_s=1.0)
    doc, stats = _export(run)
    clocks = [e["args"]["clock"] for e in doc["traceEvents"] if e["ph"] in "Xi"]
    assert clocks == sorted(clocks) and len(clocks) == stats.events
    sends = [e for e in _named(doc, "X") if e["name"].startswith("send")]
    assert stats.flows == len(sends) > 0 and stats.unreceived_sends == 0  # all are received
    assert stats.skew_adjusted > 0  # the sites' clocks are 1 s apart
    assert doc["displayTimeUnit"] == "ms" and doc["otherData"]["events"] == str(stats.events)
