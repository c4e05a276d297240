from __future__ import annotations

import asyncio
import os
import signal

import pytest

from chia.interrupts import Interrupted, interruptible, note_signal, run_interruptible


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_stop_signal_unwinds_the_block_once(signum):
    cleaned: list[str] = []
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signum)}  # Ray may own one
    with pytest.raises(Interrupted) as caught, interruptible() as received:
        try:
            os.kill(os.getpid(), signum)
            signal.sigtimedwait([], 0)  # give the handler a bytecode boundary
            raise AssertionError("not interrupted")
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # a second signal during clean-up
            cleaned.append("done")  # ...does not cut it short
    assert caught.value.signum == signum
    assert received == [signum, signal.SIGTERM]
    assert cleaned == ["done"]
    assert {s: signal.getsignal(s) for s in before} == before  # handlers put back


def test_run_interruptible_cancels_the_coroutine_then_raises():
    finished: list[str] = []

    async def wait_forever() -> None:
        try:
            asyncio.get_running_loop().call_later(0.05, os.kill, os.getpid(), signal.SIGTERM)
            await asyncio.sleep(60)
        finally:
            await asyncio.sleep(0)  # clean-up that awaits still runs
            finished.append("cleaned up")

    with pytest.raises(Interrupted) as caught, interruptible():
        run_interruptible(wait_forever())
    assert caught.value.signum == signal.SIGTERM
    assert finished == ["cleaned up"]


def test_run_interruptible_returns_the_result():
    async def answer() -> int:
        return 42

    assert run_interruptible(answer()) == 42


def test_note_signal_outside_a_block_is_always_first():
    assert note_signal(signal.SIGTERM) and note_signal(signal.SIGTERM)
