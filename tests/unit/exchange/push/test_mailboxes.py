"""The in-memory store: order, queueing without a listener, requeue of unacked messages."""

from __future__ import annotations

import pytest

from chia.exchange.push.mailboxes import MemoryStore
from chia.exchange.push.protocol import ErrorCode, FrameError


class Recorder:
    def __init__(self) -> None:
        self.woken = 0
        self.ended = False

    def wake(self) -> None:
        self.woken += 1

    def terminated(self) -> None:
        self.ended = True


def test_messages_wait_without_a_listener_and_come_in_order() -> None:
    store = MemoryStore()
    store.ensure("a", "agent", "a", ["m.A"])
    for i in range(3):
        store.send("a", "u", "request", f"t{i}", f"m{i}")
    listener = Recorder()
    store.attach("a", listener)
    assert listener.woken == 1
    assert [msg for _, msg in store.take("a", listener)] == ["m0", "m1", "m2"]


def test_unacked_messages_go_back_in_order_for_the_next_listener() -> None:
    store = MemoryStore()
    store.ensure("a", "agent")
    first, second = Recorder(), Recorder()
    store.attach("a", first)
    for i in range(4):
        store.send("a", "u", "request", f"t{i}", f"m{i}")
    taken = store.take("a", first)
    store.ack("a", first, taken[1][0])  # m0, m1 delivered
    store.send("a", "u", "request", "t4", "m4")
    store.detach("a", first)  # m2, m3 pushed but never acknowledged
    store.attach("a", second)
    assert [msg for _, msg in store.take("a", second)] == ["m2", "m3", "m4"]


def test_unknown_and_terminated_mailboxes_are_refused() -> None:
    store = MemoryStore()
    with pytest.raises(FrameError) as info:
        store.send("nobody", "u", "request", "t", "m")
    assert info.value.code == ErrorCode.UNKNOWN_MAILBOX
    store.ensure("a", "agent", "a", ["m.A"])
    store.send("a", "u", "request", "t", "question")
    listener = Recorder()
    store.attach("a", listener)
    assert store.terminate("a") == ["question"]  # the caller answers it
    assert listener.ended
    assert store.status("a") == ("terminated", None)
    with pytest.raises(FrameError) as info:
        store.ensure("a", "agent")
    assert info.value.code == ErrorCode.TERMINATED
    assert store.discover("m.A", True) == []


def test_requests_and_answers_are_counted() -> None:
    store = MemoryStore()
    store.ensure("a", "agent", "a", ["m.B", "m.A"])
    store.ensure("u", "user")
    store.send("a", "u", "request", "t1", "q")
    assert store.stats("a")["queued"] == 1
    store.send("u", "a", "response", "t1", "r")
    stats = store.stats("a")
    assert (stats["completed"], stats["incoming"]) == (1, 1)
    assert store.stats("u")["outgoing"] == 1
    assert store.discover("m.A", True) == [("a", "a")]
    assert store.discover("m.A", False) == []
