"""Academy's Globus login: read from the cache without prompting, refused clearly."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from aiohttp import web

from chia.errors import ChiaUsageError
from chia.exchange import globus_login
from chia.exchange.settings import HOSTED_EXCHANGE_URL, ExchangeSettings, open_factory
from chia.testing.globus import seed_login


@pytest.fixture
def academy_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "academy"
    monkeypatch.setenv("ACADEMY_HOME", str(home))
    monkeypatch.delenv("ACADEMY_GLOBUS_CLIENT_ID", raising=False)
    monkeypatch.delenv("ACADEMY_GLOBUS_CLIENT_SECRET", raising=False)
    return home


def test_no_cached_login_names_the_login_command(academy_home: Path) -> None:
    with pytest.raises(ChiaUsageError, match="chia exchange login") as caught:
        globus_login.cached_auth_header()
    assert str(academy_home / "storage.db") in str(caught.value)
    assert not globus_login.login_status().logged_in


def test_cached_login_gives_its_bearer_header(academy_home: Path) -> None:
    expected = seed_login(academy_home, access_token="tok-123")
    assert globus_login.cached_auth_header() == {"Authorization": expected}
    status = globus_login.login_status()
    assert (status.logged_in, status.identity) == (True, "user")


def test_expired_login_without_refresh_token_is_no_login(academy_home: Path) -> None:
    seed_login(academy_home, expires_in_s=-60, refresh_token=None)
    with pytest.raises(ChiaUsageError, match="chia exchange login"):
        globus_login.cached_auth_header()


def test_client_identity_needs_no_login(
    academy_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACADEMY_GLOBUS_CLIENT_ID", "00000000-0000-4000-8000-0000000000aa")
    monkeypatch.setenv("ACADEMY_GLOBUS_CLIENT_SECRET", "s3cret")
    assert globus_login.login_status().identity == "client"
    globus_login.interactive_login()  # nothing to do, and no prompt


def test_login_refuses_without_a_terminal(
    academy_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(ChiaUsageError, match="interactive"):
        globus_login.interactive_login()


def test_hosted_url_means_globus_auth() -> None:
    assert ExchangeSettings(kind="http", url=HOSTED_EXCHANGE_URL + "/").auth == "globus"
    assert ExchangeSettings(kind="http", url="http://127.0.0.1:9").auth == "token"
    with pytest.raises(ValueError, match="http kind"):
        ExchangeSettings(kind="redis", auth="globus")


def test_globus_kind_takes_a_project_address(academy_home: Path) -> None:
    project = "6a3b2c1d-0000-4000-8000-000000000042"
    settings = ExchangeSettings(kind="globus", url=f"globus://{project}")
    assert str(settings.globus_project) == project
    for bad in ("globus://nope", "https://x", None):
        with pytest.raises(ValueError):
            ExchangeSettings(kind="globus", url=bad)
    with pytest.raises(ChiaUsageError, match="chia exchange login"):
        open_factory(settings)
    seed_login(academy_home)
    factory = open_factory(settings)  # no network call until a client is created
    assert getattr(factory, "where", "") == f"globus project {project}"


async def test_the_cached_token_is_what_goes_on_the_wire(academy_home: Path) -> None:
    """A Globus-authenticated HTTP exchange on loopback sees the cached bearer token."""
    expected = seed_login(academy_home, access_token="wire-token")
    seen: list[str | None] = []

    async def refuse(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Authorization"))
        return web.json_response({"detail": "token rejected"}, status=401)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        settings = ExchangeSettings(kind="http", url=f"http://127.0.0.1:{port}", auth="globus")
        factory = open_factory(settings)
        with pytest.raises(Exception):  # noqa: B017 - whatever Academy raises on 401
            await asyncio.wait_for(factory.create_user_client(), timeout=30)
    finally:
        await runner.cleanup()
    assert seen and set(seen) == {expected}
