"""Whether an exchange answers, and who hears about it when it stops and comes back.

Each resilient factory (:mod:`chia.exchange.resilience`) has one :class:`ExchangeHealth`
shared by all its transports, so one outage is one "lost" and one "restored", however
many calls noticed it. :func:`watch_exchange` connects a landmark printer and an event
writer to it; without subscribers it logs a warning on the ``chia.exchange`` logger.
:func:`is_transient` is the one definition of "the exchange is unreachable right now".
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from academy.exchange import ExchangeFactory

    from chia.events.writer import EventWriter

__all__ = [
    "ExchangeHealth",
    "LostCallback",
    "RestoredCallback",
    "describe_error",
    "is_transient",
    "quiet_academy_retries",
    "watch_exchange",
]

logger = logging.getLogger("chia.exchange")

#: HTTP statuses that mean "the exchange (or its backend) is not answering right now".
_TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})


def is_transient(exc: BaseException) -> bool:
    """True for errors that mean "the exchange is unreachable now", worth a retry.

    Connection refused/reset, a broken stream, Redis loading its AOF, or an HTTP 5xx/429
    (the HTTP exchange answers 500 while its own Redis is down). Academy's own errors
    (unknown or terminated mailbox, forbidden, message too large) are not transient.
    """
    import aiohttp
    import redis.exceptions

    if getattr(exc, "chia_final", False):  # our own "gave up" error
        return False
    if isinstance(exc, aiohttp.ClientResponseError):
        return exc.status in _TRANSIENT_STATUSES
    return isinstance(
        exc,
        (
            redis.exceptions.ConnectionError,  # includes BusyLoadingError (AOF loading)
            redis.exceptions.TimeoutError,
            aiohttp.ClientConnectionError,
            aiohttp.ClientPayloadError,
            ConnectionError,
        ),
    )


def describe_error(exc: BaseException) -> str:
    """``"<ErrorType>: <first line of its message>"``, for one-line reports."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


LostCallback = Callable[[str], None]
RestoredCallback = Callable[[float], None]


class ExchangeHealth:
    """Whether the exchange answers, shared by every transport of one factory.

    The first failure while the exchange was up reports "lost" (with the error); the
    first success after that reports "restored" (with the seconds it was down).

    Args:
        where: What the exchange is, for log lines (e.g. ``redis 127.0.0.1:6379``).
    """

    def __init__(self, where: str) -> None:
        self.where = where
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._ever_up = False
        self._subscribers: list[tuple[LostCallback | None, RestoredCallback | None]] = []

    @property
    def down(self) -> bool:
        """True between a "lost" and the next "restored"."""
        return self._down_since is not None

    @property
    def ever_up(self) -> bool:
        """True once any call of this factory has succeeded."""
        return self._ever_up

    def subscribe(
        self, on_lost: LostCallback | None = None, on_restored: RestoredCallback | None = None
    ) -> Callable[[], None]:
        """Call ``on_lost(error)`` and ``on_restored(down_s)`` on each outage.

        Returns:
            A call that unsubscribes them.
        """
        entry = (on_lost, on_restored)
        with self._lock:
            self._subscribers.append(entry)

        def unsubscribe() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._subscribers.remove(entry)

        return unsubscribe

    def failed(self, exc: BaseException) -> None:
        """Record a transient failure; report "lost" if the exchange was up."""
        with self._lock:
            if self._down_since is not None:
                return
            self._down_since = time.monotonic()
            subscribers = list(self._subscribers)
        error = describe_error(exc)
        if not subscribers:
            logger.warning("exchange %s lost (%s); reconnecting", self.where, error)
        for on_lost, _ in subscribers:
            if on_lost is not None:
                _safely(on_lost, error)

    def succeeded(self) -> None:
        """Record an answer; report "restored" if the exchange was down."""
        if self._down_since is None:  # the hot path: no lock
            self._ever_up = True
            return
        with self._lock:
            since, self._down_since = self._down_since, None
            self._ever_up = True
            subscribers = list(self._subscribers)
        if since is None:
            return
        down_s = round(time.monotonic() - since, 3)
        if not subscribers:
            logger.warning("exchange %s back after %.1fs", self.where, down_s)
        for _, on_restored in subscribers:
            if on_restored is not None:
                _safely(on_restored, down_s)


def _safely(callback: Callable[[Any], None], value: Any) -> None:
    # A reporting hook that fails must not take the exchange client down with it.
    try:
        callback(value)
    except Exception:
        logger.exception("exchange health callback %r failed", callback)


def watch_exchange(
    factory: ExchangeFactory[Any],
    *,
    landmark: Callable[[str], None] | None = None,
    writer: EventWriter | None = None,
    on_lost: LostCallback | None = None,
    on_restored: RestoredCallback | None = None,
) -> Callable[[], None]:
    """Report the outages of ``factory``'s exchange; returns a call that stops reporting.

    With ``landmark``, prints ``exchange lost (<error>); reconnecting`` and ``exchange back
    after <s>s``; with ``writer``, emits ``ExchangeLost`` / ``ExchangeRestored``. A
    factory that is not resilient (the in-process ``local`` exchange) reports nothing.

    Args:
        factory: From :func:`chia.exchange.settings.open_factory`.
        landmark: Prints one landmark line (e.g. the host's ``say``).
        writer: The agent's event writer.
        on_lost: Also called with the error text when the exchange is lost.
        on_restored: Also called with the seconds it was down when it is back.
    """
    health = getattr(factory, "health", None)
    if not isinstance(health, ExchangeHealth):
        return lambda: None

    def lost(error: str) -> None:
        if landmark is not None:
            landmark(f"exchange lost ({error}); reconnecting")
        if writer is not None:
            from chia.events.model import ExchangeLost

            writer.emit(ExchangeLost, error=error)
        if on_lost is not None:
            on_lost(error)

    def restored(down_s: float) -> None:
        if landmark is not None:
            landmark(f"exchange back after {down_s:.1f}s")
        if writer is not None:
            from chia.events.model import ExchangeRestored

            writer.emit(ExchangeRestored, down_s=down_s)
        if on_restored is not None:
            on_restored(down_s)

    return health.subscribe(lost, restored)


class _QuietRetryLog(logging.Filter):
    """Turn Academy's logged tracebacks of failed HTTP requests into one INFO line.

    Academy's HTTP client logs every failed request with a traceback, even the ones it
    (or chia) retries; without logging configured, Python prints those on the terminal.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and is_transient(exc):
            record.msg, record.args = "exchange request failed: %s", (describe_error(exc),)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_QUIET = _QuietRetryLog()


def quiet_academy_retries() -> None:
    """Install :class:`_QuietRetryLog` on Academy's HTTP client logger (idempotent)."""
    academy_http = logging.getLogger("academy.exchange.cloud.client")
    if _QUIET not in academy_http.filters:
        academy_http.addFilter(_QUIET)
