"""The clock comparison against a real HTTP exchange and a real Redis."""

from __future__ import annotations

import socket
import time

from chia.exchange import ExchangeSettings
from chia.site.clock_check import CLOCK_SKEW_WARN_S, check_clock, format_offset, measure_offset

THREE_HOURS = 3 * 3600


def test_format_offset():
    assert format_offset(-10805.4) == "3h00m05s"
    assert format_offset(250) == "4m10s" and format_offset(12.4) == "12s"
    assert format_offset(CLOCK_SKEW_WARN_S) == "5m00s"


def test_an_http_exchange_tells_its_time(http_server):
    settings = ExchangeSettings(kind="http", url=http_server.url)
    reading = measure_offset(settings, {})
    assert reading is not None and reading.reference == http_server.url
    assert abs(reading.offset_s) <= reading.uncertainty_s + 0.5  # one clock, so ~0
    fast = measure_offset(settings, {}, now=lambda: time.time() + THREE_HOURS)
    assert fast is not None and abs(fast.offset_s + THREE_HOURS) < 2


def test_redis_tells_its_time(redis):
    settings = ExchangeSettings.from_redis_url("redis", redis.url(3))
    reading = measure_offset(settings, {}, now=lambda: time.time() - THREE_HOURS)
    assert reading is not None and reading.reference == f"redis://127.0.0.1:{redis.port}"
    assert abs(reading.offset_s - THREE_HOURS) < 1


def test_no_clock_to_ask_or_no_answer_is_no_reading():
    assert measure_offset(ExchangeSettings(kind="local"), {}) is None
    with socket.socket() as silent:  # accepts, never answers: the wait is bounded
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        assert measure_offset(ExchangeSettings(kind="http", url=url), {}, timeout_s=0.5) is None


def test_the_warning_names_site_offset_and_fix(http_server):
    settings = ExchangeSettings(kind="http", url=http_server.url)
    said: list[str] = []
    assert check_clock("crux", settings, {}, said.append) is None and said == []
    reading = check_clock("crux", settings, {}, said.append, threshold_s=1e-9)
    assert reading is not None and len(said) == 1
    assert said[0].startswith("[crux] warning: this machine's clock is ")
    assert http_server.url in said[0] and "fix NTP on this machine" in said[0]
