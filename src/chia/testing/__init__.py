"""Helpers that start real services for tests and benchmarks (no mocks).

* :func:`~chia.testing.services.redis_server`: a real ``redis-server`` on a free port.
* :func:`~chia.testing.services.http_exchange`: a real self-hosted Academy HTTP exchange.
* :func:`~chia.testing.services.free_port`: a free TCP port on loopback.
"""

from __future__ import annotations

from chia.testing.services import RedisServer, free_port, http_exchange, redis_server

__all__ = ["RedisServer", "free_port", "http_exchange", "redis_server"]
