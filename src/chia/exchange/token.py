"""The exchange's shared token: where clients and servers read it, how clients send it."""

from __future__ import annotations

import os

__all__ = ["TOKEN_ENV", "http_headers"]

TOKEN_ENV = "CHIA_EXCHANGE_TOKEN"
"""Environment variable holding the shared token (servers off loopback require it)."""


def http_headers() -> dict[str, str]:
    """Extra HTTP headers: the shared token from ``$CHIA_EXCHANGE_TOKEN``, if set."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    return {"Authorization": f"Bearer {token}"} if token else {}
