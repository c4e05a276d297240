"""An operator opens `chia dashboard RUN --local DIR` in a browser, watches it live, exports it."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chia.events import EventWriter, LLMCall, Note, events_path
from chia.testing.browser import chromium
from chia.testing.processes import background_command
from chia.testing.sample_run import write_two_site_run
from chia.testing.trace_format import check_trace

CHIA = str(Path(sys.executable).parent / "chia")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
URL = r"dashboard: (http://127\.0\.0\.1:\d+/)"


@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def test_two_site_run_in_chromium_updates_live(browser, tmp_path):
    run = write_two_site_run(tmp_path, "live-1")
    argv = [CHIA, "dashboard", "live-1", "--local", str(tmp_path), "--port", "0"]
    with background_command(argv, URL) as dashboard:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(dashboard.match.group(1))
        page.wait_for_selector("#timeline li")
        assert page.inner_text("#run-id") == "live-1"
        badge = page.locator("#sites-badge .site")
        assert badge.count() == 2
        assert "aurora" in badge.nth(0).inner_text() and "3 events" in badge.nth(0).inner_text()
        assert "crux" in badge.nth(1).inner_text()
        assert page.locator("#graph .lane").count() == 2
        assert page.locator("#graph .edge.cross").count() == 1
        assert page.inner_text("[data-card=cross] .card-value") == "1"
        assert page.inner_text("[data-card=state] .card-value") == "running"

        page.locator("#graph .edge.cross .edge-label").click()
        assert page.inner_text("#detail-route") == "cross-site"
        assert "aurora" in page.inner_text("#detail") and "crux" in page.inner_text("#detail")

        page.select_option("#filter-site", "crux")
        expect(page.locator("#timeline li")).to_have_count(3)
        page.select_option("#filter-site", "")

        with EventWriter(
            events_path(run / "crux", "agent-c"), run_id="live-1", site="crux", writer="agent-c"
        ) as writer:
            writer.emit(Note, clock=99, message="appended while watching")
        # How fast it shows up is measured in benchmarks/dashboard_merge.py, not here.
        page.wait_for_selector("#timeline li:has-text('appended while watching')")
        expect(badge.nth(1)).to_contain_text("4 events")

        page.fill("#replay-slider", "2")
        expect(page.locator("#replay-position")).to_have_text("2 / 7")
        assert not page.is_checked("#replay-follow")
        expect(page.locator("#timeline li")).to_have_count(2)

        with page.expect_download() as download_info:
            page.click("#export-perfetto")
        download = download_info.value
        assert download.suggested_filename == "live-1.perfetto.json"
        summary = check_trace(json.loads(Path(download.path()).read_text()))
        assert summary.problems == [] and len(summary.flows) == 1
        assert "appended while watching" in Path(download.path()).read_text()

        ARTIFACTS.mkdir(exist_ok=True)
        page.check("#replay-follow")
        page.screenshot(path=str(ARTIFACTS / "dashboard-two-sites.png"), full_page=True)
        assert errors == []
        page.close()
    assert dashboard.proc.returncode == 0
    assert "dashboard: stopped" in dashboard.output


def test_model_cost_is_shown_per_agent_per_site_and_for_the_run(browser, tmp_path):
    run = write_two_site_run(tmp_path, "cost-1")
    calls = {"aurora": ("agent-a", [0.0012, 0.0003]), "crux": ("agent-c", [0.002, None])}
    for site, (agent, costs) in calls.items():
        path = events_path(run / site, agent)
        with EventWriter(path, run_id="cost-1", site=site, writer=agent) as writer:
            for cost in costs:
                writer.emit(
                    LLMCall, clock=50, provider="openai", model="gpt-5-mini", latency_s=0.1,
                    tokens_in=1000, tokens_out=100, cost_usd=cost,
                )  # fmt: skip
    argv = [CHIA, "dashboard", "cost-1", "--local", str(tmp_path), "--port", "0"]
    with background_command(argv, URL) as dashboard:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(dashboard.match.group(1))
        expect(page.locator("[data-card=cost] .card-value")).to_have_text("$0.003500")
        label = page.inner_text("[data-card=cost] .card-label")
        assert label == "model cost, + 1 unpriced calls"
        detail = page.inner_text("[data-card=cost] .card-detail")
        assert detail == "aurora $0.001500 · crux $0.002000 + 1 unpriced"
        assert "$0.001500" in page.inner_text("#agents tr[data-agent=agent-a]")
        assert "$0.002000 + 1 unpriced" in page.inner_text("#agents tr[data-agent=agent-c]")
        crux = page.inner_text("#sites-badge .site[data-site=crux]")
        assert crux.endswith("· $0.002000 + 1 unpriced"), crux
        page.close()
    assert dashboard.proc.returncode == 0


def test_single_site_run_has_no_sites_badge(browser, tmp_path):
    run = write_two_site_run(tmp_path / "federated", "solo")
    single_root = tmp_path / "single"
    single_root.mkdir()
    shutil.move(run / "aurora", single_root / "solo")  # <runs>/solo/{events,status,...}
    argv = [CHIA, "dashboard", "solo", "--local", str(single_root), "--port", "0"]
    with background_command(argv, URL) as dashboard:
        page = browser.new_page()
        page.goto(dashboard.match.group(1))
        page.wait_for_selector("#timeline li")
        assert page.is_hidden("#sites-badge")
        assert page.locator("#graph .lane").count() == 1
        assert "cross-node" in page.inner_text("[data-card=cross] .card-label")
        page.close()
