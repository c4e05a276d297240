"""Who may read a dashboard: anyone on loopback; with a token, anyone else who holds it.

A dashboard serves every event of a run, prompts and replies included. On a loopback
address only this machine's users reach it (and ssh tunnels, by choice). On any other
address the server requires its token on every ``/api/`` request, as a
``chia_dashboard_token`` cookie or an ``Authorization: Bearer`` header; the page itself and
its scripts hold no data and are served to anyone. The printed URL carries the token in
its fragment (``#token=...``), which browsers never send over the network: the page's
script moves it into a same-site cookie and removes it from the address bar.
"""

from __future__ import annotations

import hmac
import os
import secrets

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from chia.errors import ChiaUsageError
from chia.netaddr import is_loopback

__all__ = ["COOKIE", "TOKEN_ENV", "access_middleware", "bind_token"]

TOKEN_ENV = "CHIA_DASHBOARD_TOKEN"
"""Environment variable holding the token (otherwise a fresh one is made per start)."""

COOKIE = "chia_dashboard_token"
"""The cookie the page sets from the URL fragment."""


def bind_token(host: str, token: str | None, insecure: bool) -> str | None:
    """The token a dashboard bound on ``host`` requires, or None when it needs none.

    Loopback needs none. Elsewhere the token is ``token``, else ``$CHIA_DASHBOARD_TOKEN``,
    else a fresh random one; ``insecure`` serves without one.

    Raises:
        ChiaUsageError: If a token is given together with ``insecure``, or is too short.
    """
    token = token or os.environ.get(TOKEN_ENV) or None
    if insecure:
        if token:
            raise ChiaUsageError("--insecure serves without a token: do not also give one")
        return None
    if token is not None and len(token) < 16:
        raise ChiaUsageError(f"the dashboard token must be at least 16 characters ({TOKEN_ENV})")
    if is_loopback(host):
        return token
    return token or secrets.token_urlsafe(24)


def access_middleware(token: str) -> Middleware:
    """An aiohttp middleware answering 401 to ``/api/`` requests without ``token``."""
    expected = token.encode()

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/api/"):
            header = request.headers.get("Authorization", "")
            given = header[7:] if header.startswith("Bearer ") else request.cookies.get(COOKIE, "")
            if not hmac.compare_digest(given.encode(), expected):
                raise web.HTTPUnauthorized(
                    text="this dashboard needs its token: open the URL chia dashboard printed "
                    "(it ends in #token=...), or send 'Authorization: Bearer <token>'\n"
                )
        return await handler(request)

    return check
