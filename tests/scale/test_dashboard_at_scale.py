"""An operator opens the dashboard of a 1,000-agent run in Chromium: light, readable, exact.

The run is generated: 8 sites of 125 agents each, distinct names per site, messages
between random agents: 1,000,000 events (``make test-scale``; ``CHIA_SCALE_EVENTS`` sets
another count, more than the page's window of 20,000). Checked: the page holds
a bounded window, not the run; the cards count the whole run exactly as the server's
tallies do; the graph is a site graph (8 nodes, one edge per site pair) that expands a
site into its agents; a filter asks the server and pages back through the whole run; the
Perfetto export downloads. How fast each step is: benchmarks/dashboard_scale.py.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chia.testing.browser import chromium
from chia.testing.processes import background_command
from chia.testing.sample_run import write_generated_run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

CHIA = str(Path(sys.executable).parent / "chia")
URL = r"dashboard: (http://127\.0\.0\.1:\d+/)"
EVENTS = int(os.environ.get("CHIA_SCALE_EVENTS", "1000000"))
SITES, PER_SITE, WINDOW = 8, 125, 20000
SERVER_ROWS = """() => {
  const rows = [...document.querySelectorAll('#timeline li')];
  return rows.length > 0 && rows.every((r) => r.textContent.includes('message_sent'));
}"""


def _get(base: str, path: str) -> dict:
    with urllib.request.urlopen(base + path, timeout=120) as response:
        return json.load(response)


def test_a_thousand_agents_in_chromium(tmp_path):
    write_generated_run(tmp_path, "scale", events=EVENTS, sites=SITES, agents=PER_SITE)
    argv = [CHIA, "dashboard", "scale", "--local", str(tmp_path), "--port", "0"]
    with (
        background_command(argv, URL, timeout_s=120) as dashboard,
        chromium() as browser,
    ):
        base = dashboard.match.group(1)
        totals = _get(base, "api/aggregates")
        assert totals["agent_count"] == SITES * PER_SITE
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(base)
        page.wait_for_selector("#timeline li")

        # bounded: the page holds the window, while knowing the run's size
        held = int(page.get_attribute("body", "data-window") or 0)
        assert held == WINDOW < EVENTS
        assert int(page.get_attribute("body", "data-events") or 0) == totals["run"]["events"]
        assert "the newest 20,000 events" in page.inner_text("#timeline-note")
        # exact: counts over the whole run, as the server tallied them
        expect(page.locator("[data-card=messages] .card-value")).to_have_text(
            f"{totals['run']['messages_sent']:,}"
        )
        cost = page.inner_text("[data-card=cost] .card-value")
        assert cost == f"${totals['run']['cost_usd']:.6f}"
        unpriced = f"+ {totals['run']['unpriced_calls']:,} unpriced calls"
        assert unpriced in page.inner_text("[data-card=cost] .card-label")
        for site in totals["sites"]:  # each site's cost, on its badge
            badge = page.inner_text(f"#sites-badge .site[data-site={site['site']}]")
            assert f"· ${site['cost_usd']:.6f} + {site['unpriced_calls']:,} unpriced" in badge

        # readable: sites are the nodes; one edge per site pair; a click expands a site
        assert page.locator("#graph .site-node").count() == SITES
        pairs = [p for p in totals["site_pairs"] if p["from"] != p["to"]]
        assert page.locator("#graph .site-edge").count() == len(pairs)
        assert page.locator("#graph .edge-label").count() == 0
        assert page.locator("#agents tbody tr[data-agent]").count() == 200
        page.locator("#graph .site-node[data-site=site-3]").click()
        expanded = page.locator(".expanded-site[data-site=site-3]")
        expect(expanded).to_contain_text("125 agents")
        assert expanded.locator(".agent-chip").count() == 60
        assert all(n.startswith("s3-") for n in expanded.locator(".agent-chip").all_inner_texts())
        expect(page.locator(".top-talkers caption")).to_have_text("Top talkers in site-3")

        # a filter goes to the server, over the whole run, and pages back
        page.select_option("#filter-site", "site-2")
        page.select_option("#filter-kind", "message_sent")
        page.wait_for_function(SERVER_ROWS)  # the server's page for both filters is drawn
        expect(page.locator("#timeline-note")).to_have_text(
            "filtered on the server, over the whole run"
        )
        expect(page.locator("#timeline-older")).to_be_visible()
        rows = page.locator("#timeline li")
        assert 0 < rows.count() <= 60  # virtualized: only the rows in view are in the page
        texts = rows.all_inner_texts()
        assert all("site-2" in t and "message_sent" in t for t in texts), texts[:3]
        first_seqs = set(rows.evaluate_all("rows => rows.map(r => r.dataset.seq)"))
        page.click("#timeline-older")
        page.locator("#timeline").evaluate("list => { list.scrollTop = list.scrollHeight; }")
        expect(page.locator("#timeline li").last).not_to_have_attribute("data-seq", "")
        later = set(
            page.locator("#timeline li").evaluate_all("rows => rows.map(r => r.dataset.seq)")
        )
        assert later and not later & first_seqs  # scrolled past the first page into older ones

        with page.expect_download(timeout=600_000) as download_info:
            page.click("#export-perfetto")
        path = Path(download_info.value.path())
        with path.open("rb") as trace:
            assert trace.read(1) == b"{"
            trace.seek(-2, os.SEEK_END)
            assert trace.read().rstrip().endswith(b"}")
        assert path.stat().st_size > EVENTS * 50
        assert errors == []
        page.close()
