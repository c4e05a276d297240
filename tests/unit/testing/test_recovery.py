"""Timing recovery: a real cold-started agent process answers; a dead one ends the wait."""

from __future__ import annotations

import asyncio

import pytest

from chia.testing import http_exchange
from chia.testing.recovery import cold_start, time_to_answer


def test_a_cold_started_agent_is_timed_to_its_first_answered_ping(tmp_path):
    with http_exchange() as server:
        seconds = cold_start(server.settings(), tmp_path / "floor.log")
    assert seconds > 0


def test_the_wait_ends_once_the_process_that_should_answer_is_gone():
    with http_exchange() as server:
        wait = time_to_answer(server.settings(), "r", "nobody", lambda: None, lambda: False)
        with pytest.raises(TimeoutError, match="nobody never answered a ping: its process"):
            asyncio.run(wait)
