"""Group commit over a real file: fsyncs are shared in batch mode, one each in message mode."""

from __future__ import annotations

import asyncio

import pytest

from chia.events import EventWriter, Note
from chia.events.durability import GroupCommit


def _writer(tmp_path):
    return EventWriter(tmp_path / "a.jsonl", run_id="r", site="s", writer="a")


async def test_batch_mode_shares_one_fsync_between_concurrent_waiters(tmp_path):
    with _writer(tmp_path) as writer:
        commit = GroupCommit(writer, "batch")
        for n in range(20):
            writer.emit(Note, message=str(n))
        await asyncio.gather(*(commit.durable() for _ in range(20)))
        assert 1 <= commit.fsyncs <= 2  # the directory sync rides on the first
        await commit.durable()  # nothing new written: no fsync needed
        assert commit.fsyncs <= 2


async def test_a_write_after_a_flush_waits_for_the_next_one(tmp_path):
    with _writer(tmp_path) as writer:
        commit = GroupCommit(writer, "batch")
        writer.emit(Note, message="first")
        await commit.durable()
        assert commit.fsyncs == 1
        writer.emit(Note, message="second")
        await commit.durable()
        assert commit.fsyncs == 2


async def test_a_slow_disk_moves_fsync_to_a_thread_and_still_covers_every_waiter(tmp_path):
    with _writer(tmp_path) as writer:
        commit = GroupCommit(writer, "batch")
        commit.SLOW_FSYNC_S = -1.0  # as if every fsync were slow
        for n in range(10):
            writer.emit(Note, message=str(n))
        await asyncio.gather(*(commit.durable() for _ in range(10)))
        assert commit.fsyncs == 1


@pytest.mark.parametrize(("mode", "expected"), [("message", 5), ("none", 0)])
async def test_message_mode_fsyncs_each_call_and_none_never(tmp_path, mode, expected):
    with _writer(tmp_path) as writer:
        commit = GroupCommit(writer, mode)
        for n in range(5):
            writer.emit(Note, message=str(n))
            await commit.durable()
        assert commit.fsyncs == expected
