from __future__ import annotations

import threading

from chia.events import LamportClock


def test_tick_and_observe():
    clock = LamportClock()
    assert clock.tick() == 1
    assert clock.observe(10) == 11
    assert clock.observe(3) == 12
    assert clock.value == 12


def test_ticks_are_unique_across_threads():
    clock = LamportClock()
    seen: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(500):
            value = clock.tick()
            with lock:
                seen.append(value)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 2001))
