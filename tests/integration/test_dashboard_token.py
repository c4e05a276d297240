"""A dashboard that requires a token: the printed URL opens it, nothing else does."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from chia.testing.browser import chromium
from chia.testing.processes import background_command
from chia.testing.sample_run import write_two_site_run

CHIA = str(Path(sys.executable).parent / "chia")
TOKEN = "operator-token-0123456789"
URL = r"dashboard: (http://127\.0\.0\.1:(\d+)/#token=(\S+))"


def test_the_printed_url_carries_the_token_into_a_cookie(tmp_path, monkeypatch):
    write_two_site_run(tmp_path, "locked-1")
    monkeypatch.setenv("CHIA_DASHBOARD_TOKEN", TOKEN)
    argv = [CHIA, "dashboard", "locked-1", "--local", str(tmp_path), "--port", "0"]
    with background_command(argv, URL) as dashboard, chromium() as browser:
        url, port, shown = dashboard.match.groups()
        assert shown == TOKEN
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/run", timeout=10)
        assert refused.value.code == 401

        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(url)
        page.wait_for_selector("#timeline li")
        assert page.inner_text("#run-id") == "locked-1"
        assert "token" not in page.url  # taken out of the address bar (and history)
        cookies = {c["name"]: c for c in page.context.cookies()}
        assert cookies["chia_dashboard_token"]["value"] == TOKEN
        assert cookies["chia_dashboard_token"]["sameSite"] == "Strict"
        with page.expect_download() as download:  # the export button sends the cookie too
            page.click("#export-perfetto")
        assert '"traceEvents"' in Path(download.value.path()).read_text()
        assert errors == []

        stranger = browser.new_page()  # a new context: no cookie
        response = stranger.goto(f"http://127.0.0.1:{port}/api/status")
        assert response is not None and response.status == 401
    assert "dashboard: stopped" in dashboard.output
