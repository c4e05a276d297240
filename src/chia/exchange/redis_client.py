"""Keyword arguments of the Redis clients of every exchange kind over Redis.

Its own module so that the exchange settings and the transports (redis-fast) share it
without importing each other.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["REDIS_PASSWORD_ENV", "redis_connection_kwargs"]

#: Environment variable holding the Redis password (redis, redis-fast, hybrid), if any.
REDIS_PASSWORD_ENV = "CHIA_REDIS_PASSWORD"


def redis_connection_kwargs(db: int, max_connections: int) -> dict[str, Any]:
    """``redis.asyncio.Redis`` keyword arguments of an exchange client (db, pool size).

    redis-py's own retry (3 attempts, up to ~7 s) is off: chia's reconnecting wrapper
    (:mod:`chia.exchange.resilience`) retries instead, with its own backoff and deadline,
    and reports the outage, which redis-py would hide or end with an error. The password,
    if any, is read from ``$CHIA_REDIS_PASSWORD`` now, in the process that connects.
    """
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    kwargs: dict[str, Any] = {
        "db": db,
        "socket_timeout": None,
        "socket_connect_timeout": 10.0,
        "socket_keepalive": True,
        "max_connections": max_connections,
        "retry": Retry(NoBackoff(), 0),
    }
    password = os.environ.get(REDIS_PASSWORD_ENV)
    if password:
        kwargs["password"] = password
    return kwargs
