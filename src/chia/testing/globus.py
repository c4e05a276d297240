"""A cached Globus login for tests, written where Academy's own login would write it.

The hosted Academy exchange cannot be reached from here, so tests stop at the network
call: they seed ``$ACADEMY_HOME/storage.db`` with the token records a real
``chia exchange login`` stores (Academy's token storage, Academy's scopes) and check what
chia does with them.
"""

from __future__ import annotations

import time
from pathlib import Path

__all__ = ["seed_login"]


def seed_login(
    academy_home: Path,
    *,
    access_token: str = "test-access-token",
    expires_in_s: int = 3600,
    refresh_token: str | None = "test-refresh-token",
) -> str:
    """Store a login for the Academy exchange scope under ``academy_home``.

    Args:
        academy_home: The directory ``$ACADEMY_HOME`` will point at.
        access_token: The exchange access token to store.
        expires_in_s: Seconds until it expires (negative: already expired).
        refresh_token: The refresh token, or None for none.

    Returns:
        The ``Authorization`` header value a client should send.
    """
    from academy.exchange.cloud.login import get_token_storage
    from academy.exchange.cloud.scopes import AcademyExchangeScopes
    from globus_sdk.token_storage import TokenStorageData

    storage = get_token_storage(academy_home / "storage.db")
    scopes = {
        AcademyExchangeScopes.resource_server: str(AcademyExchangeScopes.academy_exchange),
        "auth.globus.org": "openid",
    }
    expires = int(time.time()) + expires_in_s
    storage.store_token_data_by_resource_server(
        {
            server: TokenStorageData(
                resource_server=server,
                identity_id="00000000-0000-4000-8000-000000000001",
                scope=scope,
                access_token=access_token if server != "auth.globus.org" else "auth-token",
                refresh_token=refresh_token,
                expires_at_seconds=expires,
                token_type="Bearer",
            )
            for server, scope in scopes.items()
        }
    )
    storage.close()
    return f"Bearer {access_token}"
