from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from chia.assets import path as asset_path
from chia.dashboard.access import COOKIE, TOKEN_ENV, bind_token
from chia.dashboard.app import create_app
from chia.dashboard.store import RunStore
from chia.errors import ChiaUsageError

ASYNC = pytest.mark.asyncio(loop_scope="session")

TOKEN = "a-token-of-enough-length"


@pytest.fixture
async def client(two_site_run):
    app = create_app(RunStore(two_site_run, "run-1"), asset_path("dashboard"), 0.05, TOKEN)
    async with TestClient(TestServer(app, host="127.0.0.1")) as test_client:
        yield test_client


@ASYNC
async def test_api_without_the_token_is_refused_and_says_how(client):
    for path in ("/api/run", "/api/status", "/api/events", "/api/stream", "/api/export/perfetto"):
        response = await client.get(path)
        assert response.status == 401, path
        assert "#token=" in await response.text()
    wrong = await client.get("/api/run", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status == 401


@ASYNC
async def test_the_page_is_served_and_the_token_opens_the_api(client):
    page = await client.get("/")
    assert page.status == 200 and "<html" in (await page.text()).lower()
    by_header = await client.get("/api/run", headers={"Authorization": f"Bearer {TOKEN}"})
    assert by_header.status == 200 and (await by_header.json())["run_id"] == "run-1"
    by_cookie = await client.get("/api/events", cookies={COOKIE: TOKEN})
    assert by_cookie.status == 200
    export = await client.get("/api/export/perfetto", cookies={COOKIE: TOKEN})
    assert export.status == 200 and "traceEvents" in await export.text()


def test_loopback_needs_no_token_and_elsewhere_one_is_made(monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    assert bind_token("127.0.0.1", None, insecure=False) is None
    made = bind_token("0.0.0.0", None, insecure=False)
    assert made and len(made) >= 16 and made != bind_token("0.0.0.0", None, insecure=False)
    assert bind_token("0.0.0.0", None, insecure=True) is None
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    assert bind_token("10.1.2.3", None, insecure=False) == TOKEN


def test_bad_token_settings_are_usage_errors(monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ChiaUsageError, match="at least 16"):
        bind_token("0.0.0.0", "short", insecure=False)
    with pytest.raises(ChiaUsageError, match="--insecure serves without a token"):
        bind_token("0.0.0.0", TOKEN, insecure=True)
