"""Does this site's wall clock agree with the exchange's? Say so when it is far off.

``chia spawn-site`` asks the exchange for its time once, before starting any rank: an
HTTP exchange (self-hosted, hosted, push) through the ``Date`` header of one request to
its URL (through the proxy the ranks use), a Redis one (``redis``, ``redis-fast``,
``hybrid``) with ``TIME``. The offset is the exchange's time minus the midpoint of our
request, good to about a second plus half the round trip. The in-process ``local``
exchange and Globus have no clock to compare; an exchange that does not answer within
:data:`CLOCK_PROBE_TIMEOUT_S` is not measured (the ranks will report it), so this never
holds a site up.

An offset beyond :data:`CLOCK_SKEW_WARN_S` (5 minutes) is a **warning, not an error**:
a landmark line naming the site, the offset and what to do (fix NTP), and a
``clock_skew`` event in the site's log. The campaign is not stopped because nothing in
it needs agreeing clocks: the dashboard merges sites by Lamport clock
(:mod:`chia.events.clock`), delivery deadlines and restart backoff run on each
process's own monotonic clock, and liveness is a ping answered now. What a skewed site
does get wrong is its events' wall timestamps (the dashboard's times, ``chia runs
show`` durations across sites), which the warning names; refusing to start would turn a
cosmetic problem into a lost allocation. Offsets below the threshold are normal (NTP
keeps machines within milliseconds; a VM after suspend drifts seconds) and not shown.
"""

from __future__ import annotations

import email.utils
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import cast
from urllib.parse import urlparse

from chia.exchange.settings import REDIS_KINDS, REDIS_PASSWORD_ENV, ExchangeSettings
from chia.site.environment import exchange_proxy

__all__ = [
    "CLOCK_PROBE_TIMEOUT_S",
    "CLOCK_SKEW_WARN_S",
    "ClockReading",
    "check_clock",
    "format_offset",
    "measure_offset",
]

#: Offsets (seconds, either way) from which a site warns that its clock is off.
CLOCK_SKEW_WARN_S = 300.0
#: How long the one request for the exchange's time may take.
CLOCK_PROBE_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ClockReading:
    """One comparison of our wall clock with a reference's.

    Attributes:
        offset_s: The reference's time minus ours (positive: our clock is behind).
        reference: What was asked (the exchange's URL or ``redis://host:port``).
        uncertainty_s: How far off the measurement itself may be.
    """

    offset_s: float
    reference: str
    uncertainty_s: float


def format_offset(seconds: float) -> str:
    """``3h00m05s``, ``4m10s`` or ``12s`` (the magnitude; the caller says which way)."""
    total = round(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


def _http_time(
    url: str, env: Mapping[str, str], settings: ExchangeSettings, timeout_s: float
) -> float | None:
    """The ``Date`` of one ``HEAD`` to ``url`` (any status), as a Unix time."""
    proxy = exchange_proxy(env, settings)
    handlers = urllib.request.ProxyHandler({"http": proxy[1], "https": proxy[1]} if proxy else {})
    opener = urllib.request.build_opener(handlers)
    try:
        with opener.open(urllib.request.Request(url, method="HEAD"), timeout=timeout_s) as reply:
            date = reply.headers.get("Date")
    except urllib.error.HTTPError as exc:  # a 404 or 401 still carries the server's Date
        date = exc.headers.get("Date")
    except (OSError, ValueError):
        return None
    if not date:
        return None
    try:
        # The header drops the fraction: the server's time was within the next second.
        return email.utils.parsedate_to_datetime(date).timestamp() + 0.5
    except (TypeError, ValueError):
        return None


def _redis_time(settings: ExchangeSettings, timeout_s: float) -> float | None:
    """Redis ``TIME`` as a Unix time."""
    import redis

    client = redis.Redis(
        host=settings.redis_host,
        port=settings.redis_port,
        password=os.environ.get(REDIS_PASSWORD_ENV) or None,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
    )
    try:
        seconds, micros = cast("tuple[int, int]", client.time())
    except (redis.RedisError, OSError):
        return None
    finally:
        client.close()
    return float(seconds) + micros / 1e6


def measure_offset(
    settings: ExchangeSettings,
    env: Mapping[str, str],
    timeout_s: float = CLOCK_PROBE_TIMEOUT_S,
    now: Callable[[], float] = time.time,
) -> ClockReading | None:
    """Compare our wall clock with the exchange's, once.

    Args:
        settings: The site's exchange.
        env: The ranks' environment (for the proxy they reach the exchange through).
        timeout_s: The longest wait for the exchange's answer.
        now: Our wall clock.

    Returns:
        The reading, or None when the exchange has no clock to ask (local, globus) or
        did not answer in time.
    """
    if settings.kind in REDIS_KINDS:
        reference = f"redis://{settings.redis_host}:{settings.redis_port}"
        ask: Callable[[], float | None] = partial(_redis_time, settings, timeout_s)
        resolution = 1e-6
    elif settings.url and urlparse(settings.url).scheme in ("http", "https", "ws", "wss"):
        reference = settings.url
        url = "http" + reference.removeprefix("ws") if reference.startswith("ws") else reference
        ask = partial(_http_time, url, env, settings, timeout_s)
        resolution = 0.5  # the Date header has whole seconds
    else:
        return None
    sent = now()
    theirs = ask()
    received = now()
    if theirs is None:
        return None
    midpoint = (sent + received) / 2
    return ClockReading(theirs - midpoint, reference, resolution + (received - sent) / 2)


def check_clock(
    site: str,
    settings: ExchangeSettings,
    env: Mapping[str, str],
    say: Callable[[str], None],
    threshold_s: float = CLOCK_SKEW_WARN_S,
    timeout_s: float = CLOCK_PROBE_TIMEOUT_S,
) -> ClockReading | None:
    """Measure the offset to the exchange; warn through ``say`` when it passes the threshold.

    Returns:
        The reading when it passes ``threshold_s`` (the caller records the event),
        else None.
    """
    reading = measure_offset(settings, env, timeout_s)
    if reading is None or abs(reading.offset_s) <= threshold_s:
        return None
    way = "behind" if reading.offset_s > 0 else "ahead of"
    say(
        f"[{site}] warning: this machine's clock is {format_offset(reading.offset_s)} {way} "
        f"the exchange's ({reading.reference}), more than {format_offset(threshold_s)}: "
        "fix NTP on this machine (`timedatectl`, `chronyc tracking`) or tell the site's "
        "admins. The campaign goes on (events are merged by Lamport clock), but this "
        "site's event timestamps will be off by as much."
    )
    return reading
