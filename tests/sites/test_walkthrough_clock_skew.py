"""The walkthrough with crux's clock 3 minutes fast (an LD_PRELOAD on its compute processes).

Every event crux writes carries a wall time 3 minutes ahead, so by wall time a crux
send would come after the aurora receive it caused. The dashboard's merged timeline
(its HTTP API, from the laptop) is causally ordered anyway: every message's send comes
before its receipt, and so is the timeline the page shows in Chromium (run in the laptop
namespace, as the operator's browser).
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from chia.testing.browser import chromium
from chia.testing.clock_skew import clock_skew_prefix
from chia.testing.netns import Topology
from chia.testing.site_realism import LaptopExchange, Phases
from chia.testing.site_walkthrough import AGENTS, Options, agent_status, run_walkthrough


def _when(event: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(event["timestamp"])


#: Scroll the (virtualized) timeline from top to bottom; every row's seq, top to bottom.
_SCROLL_THROUGH = """async (list) => {
  const seen = new Map();
  list.scrollTop = 0;
  for (let guard = 0; guard < 10000; guard += 1) {
    await new Promise((r) => setTimeout(r, 20));
    for (const row of list.querySelectorAll('li')) {
      seen.set(parseFloat(row.style.top), +row.dataset.seq);
    }
    const before = list.scrollTop;
    list.scrollTop = before + list.clientHeight / 2;
    if (list.scrollTop === before) break;
  }
  return [...seen.entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
}"""


def _page_order(topo: Topology, url: str, count: int) -> list[int]:
    """The ``seq`` of each timeline row the dashboard page shows, oldest first.

    The timeline draws only the rows in view, so the list is scrolled through from the
    newest row at the top to the oldest at the bottom.
    """
    with chromium(netns=topo.name("laptop")) as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        page.wait_for_function(f"Number(document.body.dataset.events) >= {count}")
        seqs = page.locator("#timeline").evaluate(_SCROLL_THROUGH)
        assert not errors, errors
    return list(reversed(seqs))  # the page lists the newest first


def test_walkthrough_with_crux_clock_three_minutes_fast(
    topo: Topology, laptop_exchange: LaptopExchange, phases: Phases, tmp_path: Path
) -> None:
    try:
        skew = clock_skew_prefix(180, tmp_path / "clock-skew")
    except RuntimeError as exc:
        pytest.skip(str(exc))
    options = Options(run_id="walk-skew", site_prefix={"crux": skew})
    walk = run_walkthrough(topo, laptop_exchange, phases, tmp_path, options)
    for site in AGENTS:
        status = agent_status(walk, site)
        assert status["state"] == "finished" and status["result"] == "counter = 10", status
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # until the mirror brought both sites' ends
        events = walk.api("api/events")["events"]
        if sum(e["kind"] == "site_finished" for e in events) == 2:
            break
        time.sleep(0.5)
    shown = _page_order(topo, walk.dashboard_url, len(events))
    walk.shut_down()
    agents = set(AGENTS.values())  # the kickoff's sender, the laptop, writes no events
    sent = {e["message_id"]: (i, e) for i, e in enumerate(events) if e["kind"] == "message_sent"}
    received = [
        (i, e)
        for i, e in enumerate(events)
        if e["kind"] == "message_received" and e["sender"] in agents
    ]
    assert len(received) >= 9, [e["kind"] for e in events]  # the counter crossed sites
    inverted = 0
    for i, receipt in received:
        assert receipt["message_id"] in sent, receipt
        j, send = sent[receipt["message_id"]]
        assert j < i, (send, receipt)  # the merged timeline: the send first
        inverted += _when(receipt) < _when(send)
    # The page shows the same causal order: each receipt's row after its send's.
    row = {seq: i for i, seq in enumerate(shown)}
    for _, receipt in received:
        _, send = sent[receipt["message_id"]]
        if send["seq"] in row and receipt["seq"] in row:
            assert row[send["seq"]] < row[receipt["seq"]], (send, receipt)
    assert sum(r["seq"] in row for _, r in received) == len(received), "rows missing"
    # The skew is real: by wall time, each of crux's sends comes after its receipt.
    crux_sends = [e for _, e in sent.values() if e["site"] == "crux"]
    assert crux_sends and inverted >= len(crux_sends), (inverted, len(crux_sends))
