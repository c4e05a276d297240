"""Helpers that start real services for tests and benchmarks (no mocks).

* :func:`~chia.testing.services.redis_server`: a real ``redis-server`` on a free port.
* :func:`~chia.testing.services.http_exchange`: a real self-hosted Academy HTTP exchange.
* :func:`~chia.netaddr.free_port`: a free TCP port on loopback, never handed out twice.
"""

from __future__ import annotations

from chia.netaddr import free_port
from chia.testing.services import RedisServer, http_exchange, redis_server

__all__ = ["RedisServer", "free_port", "http_exchange", "redis_server"]
