"""The self-hosted HTTP exchange rides out restarts of its own redis-server.

Academy's HTTP exchange (redis backend) answers 500 with a logged traceback for every
request that reaches its backend while redis-server is down, and an SSE listen stream
that was waiting in ``BLPOP`` breaks. Measured with academy-py 1.0.0: redis-py's own
retry (3 attempts) hides an outage of a few seconds; a longer one gives each client 500s,
and Academy's client then leaks the failed responses ("Unclosed connection" warnings).

:class:`HeldBackend` wraps the server's mailbox backend: every backend call that fails
with a connection error is retried with the clients' backoff (0.2 s doubling to 5 s, for
up to 10 min), so requests are held, not failed, and an open listen stream just waits
until redis-server is back (redis-py's own retry is turned off: ours replaces it). One
line is logged when the backend is lost and one when it is back (``chia.exchange``
logger: the server's stdout). Mailboxes survive only if redis-server keeps its data
(``appendonly yes``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from chia.exchange.academy_seam import backend_redis_client, replace_server_backend, server_backend
from chia.exchange.health import ExchangeHealth
from chia.exchange.resilience import Backoff, retry_transient

__all__ = ["HeldBackend", "hold_backend"]


class HeldBackend:
    """An Academy ``MailboxBackend`` whose calls wait out backend outages.

    Args:
        inner: The backend ``create_app`` built (``RedisBackend`` or ``PythonBackend``).
        where: What the backend is, for log lines (e.g. ``redis 127.0.0.1:6379/0``).
        backoff: Retry timing and deadlines.
    """

    def __init__(self, inner: Any, where: str, backoff: Backoff | None = None) -> None:
        self._inner = inner
        self._backoff = backoff or Backoff()
        self.health = ExchangeHealth(where)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr
        return self._held(name, attr)

    def _held(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        async def held(*args: Any, **kwargs: Any) -> Any:
            return await retry_transient(
                self.health, self._backoff, name, lambda: method(*args, **kwargs)
            )

        return held


def hold_backend(app: Any, config: Any) -> HeldBackend | None:
    """Put a :class:`HeldBackend` in front of the redis backend of a ``create_app`` app.

    Args:
        app: The aiohttp application from Academy's ``create_app`` (not started yet).
        config: Its ``ExchangeServingConfig``.

    Returns:
        The wrapper, or None for the in-memory backend (it has no server to lose).
    """
    backend = config.backend
    if getattr(backend, "kind", None) != "redis":
        return None
    where = f"redis backend {backend.hostname}:{backend.port}/{backend.kwargs.get('db', 0)}"
    inner = server_backend(app)
    client = backend_redis_client(inner)
    if client is not None and hasattr(client, "set_retry"):
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # As for the clients (chia.exchange.settings): redis-py's own retries (up to
        # ~7 s of jittered waits) would add to ours and slow the recovery down.
        client.set_retry(Retry(NoBackoff(), 0))
    held = HeldBackend(inner, where)
    replace_server_backend(app, held)
    return held
