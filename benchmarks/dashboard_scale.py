"""The dashboard on a big run, in real Chromium: ready, first data, heap, filter, update.

Usage: python benchmarks/dashboard_scale.py [--events 1000000] [--sites 8] [--agents 125]
                                            [--poll-s 0.5] [--updates 10]

Generates a run of ``--sites`` x ``--agents`` agents (distinct names per site) and about
``--events`` events, starts ``chia dashboard`` on it as a user would, opens it in
headless Chromium (Debian's, through Playwright) and measures, in one run:

* server ready: from starting ``chia dashboard`` to its first answer (the run is loaded
  before it listens); next to the floor, reading the run's bytes;
* first data: from opening the page to its first timeline row; then until the cards
  count the whole run (the server's first tally of every event);
* JS heap after a garbage collection (CDP ``Runtime.getHeapUsage``);
* a filter change: site + kind chosen, until the server's filtered rows are on screen;
* an update: 100 events appended to one writer's file, until the newest is on screen
  (the page's own clock at the DOM change, against the write time: the median of
  ``--updates``; inotify wakes the server, ``--poll-s`` is only its fallback);

and, as the peer, what the dashboard did before it held a window: the page fetching and
parsing every event (``/api/events``), its time and heap. Targets (issue 18): ready
<= 5 s, first data <= 2 s, heap <= 150 MB, filter <= 300 ms, update <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from chia.events import EventWriter, Note, events_path
from chia.testing.browser import chromium
from chia.testing.processes import background_command
from chia.testing.sample_run import write_generated_run

CHIA = str(Path(sys.executable).parent / "chia")
URL = r"dashboard: (http://127\.0\.0\.1:\d+/)"
#: Watch the timeline for a row holding the marker; keep Date.now() when it appears.
SEEN = """(marker) => {
  window.seenAt = 0;
  const list = document.getElementById('timeline');
  const observer = new MutationObserver(() => {
    if (list.textContent.includes(marker)) { window.seenAt = Date.now(); observer.disconnect(); }
  });
  observer.observe(list, { childList: true, subtree: true, characterData: true });
}"""
#: True once the cards count the whole run (the server's tallies), not the window.
WHOLE_RUN = """() => Number(document.querySelector('[data-card=decisions] .card-value')
  .textContent.replace(/,/g, '')) > 20000"""
#: True once the timeline shows the server's rows for site-2's message_sent events.
FILTERED = """() => {
  const rows = [...document.querySelectorAll('#timeline li')];
  const note = document.getElementById('timeline-note').textContent;
  return note.startsWith('filtered') && rows.length > 0 && rows.every(
    (r) => r.textContent.includes('site-2') && r.textContent.includes('message_sent'));
}"""


def _heap_mb(page) -> float:  # type: ignore[no-untyped-def]
    session = page.context.new_cdp_session(page)
    session.send("HeapProfiler.collectGarbage")
    used = session.send("Runtime.getHeapUsage")["usedSize"]
    session.detach()
    return float(used) / 2**20


def _floor_read_s(run: Path) -> float:
    start = time.perf_counter()
    for path in run.rglob("*.jsonl"):
        path.read_bytes()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sites", type=int, default=8)
    parser.add_argument("--agents", type=int, default=125, help="agents per site")
    parser.add_argument("--poll-s", type=float, default=0.5)
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"generating {args.events:,} events, {args.sites * args.agents:,} agents ...")
        run = write_generated_run(
            root, "scale", events=args.events, sites=args.sites, agents=args.agents
        )
        floor = _floor_read_s(run)
        argv = [CHIA, "dashboard", "scale", "--local", str(root), "--port", "0"]
        argv += ["--poll-s", str(args.poll_s)]
        started = time.perf_counter()
        with background_command(argv, URL, timeout_s=300) as dashboard, chromium() as browser:
            base = dashboard.match.group(1)
            urllib.request.urlopen(base + "api/run", timeout=60).read()
            ready = time.perf_counter() - started
            rows.append(("server ready", f"{ready:.2f} s", f"{floor:.2f} s (read)", "<= 5 s"))

            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            start = time.perf_counter()
            page.goto(base)
            page.wait_for_selector("#timeline li", timeout=120_000)
            first = time.perf_counter() - start
            rows.append(("first data", f"{first:.2f} s", "", "<= 2 s"))
            page.wait_for_function(WHOLE_RUN, timeout=120_000)
            counted = time.perf_counter() - start
            rows.append(("whole-run counts on the cards", f"{counted:.2f} s", "", ""))
            page.wait_for_selector("[data-card=cost]")
            rows.append(("JS heap", f"{_heap_mb(page):.0f} MB", "", "<= 150 MB"))

            start = time.perf_counter()
            page.select_option("#filter-site", "site-2")
            page.select_option("#filter-kind", "message_sent")
            page.wait_for_function(FILTERED)
            filter_ms = (time.perf_counter() - start) * 1000
            rows.append(("filter change", f"{filter_ms:.0f} ms", "", "<= 300 ms"))
            page.select_option("#filter-site", "")
            page.select_option("#filter-kind", "")
            page.wait_for_timeout(500)

            latencies = []
            path = events_path(run / "site-0", "s0-agent-0")
            clock = 10**9
            for update in range(args.updates):
                marker = f"update-{update}"
                page.evaluate(SEEN, marker)  # the page notes the moment the row appears
                with EventWriter(path, run_id="scale", site="site-0", writer="s0-agent-0") as w:
                    written = time.time()
                    with w.atomic():
                        for i in range(100):
                            clock += 1
                            w.emit(Note, clock=clock, message=marker if i == 99 else "x")
                seen_ms = page.wait_for_function("() => window.seenAt", timeout=30_000)
                latencies.append(float(seen_ms.json_value()) / 1000 - written)
            update_ms = statistics.median(latencies) * 1000
            rows.append(
                (
                    "update (100 events)",
                    f"{update_ms:.0f} ms",
                    f"inotify, poll {args.poll_s * 1000:.0f} ms",
                    "<= 100 ms",
                )
            )

            peer = browser.new_page()
            peer.goto(base + "api/run")
            start = time.perf_counter()
            count = peer.evaluate(
                "async () => { window.all = await (await fetch('/api/events')).json();"
                " return window.all.events.length; }"
            )
            peer_s = time.perf_counter() - start
            rows.append(
                ("peer: fetch + parse every event", f"{peer_s:.2f} s", f"{count:,} events", "")
            )
            rows.append(("peer: its JS heap", f"{_heap_mb(peer):.0f} MB", "", ""))
    print(f"\n{args.events:,} events, {args.sites} sites x {args.agents} agents")
    print(f"  {'':34} {'ours':>10} {'floor / note':>20} {'target':>10}")
    for label, ours, floor_text, target in rows:
        print(f"  {label:34} {ours:>10} {floor_text:>20} {target:>10}")


if __name__ == "__main__":
    try:
        main()
    except subprocess.CalledProcessError as exc:
        print(json.dumps({"error": str(exc)}))
        raise
