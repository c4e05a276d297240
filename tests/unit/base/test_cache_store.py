from __future__ import annotations

import os
import time
from pathlib import Path

from chia.base._cache_store import DiskLRU


def test_write_read_has_and_miss(tmp_path: Path) -> None:
    store = DiskLRU(tmp_path, 10_000)
    assert store.read("a") == (False, None)
    assert store.write("a", {"v": [1, 2]})
    assert store.has("a") and not store.has("b")
    assert store.read("a") == (True, {"v": [1, 2]})


def test_lru_eviction_respects_budget_and_recency(tmp_path: Path) -> None:
    blob = b"x" * 400
    store = DiskLRU(tmp_path, 1000)
    store.write("a", blob)
    store.write("b", blob)
    store.read("a")  # a is now most recent
    store.write("c", blob)  # over budget: evict b, the least recently used
    assert store.keys() == ["a", "c"]
    assert store.size_bytes() <= 1000
    assert len(list(tmp_path.glob("*.pkl"))) == 2


def test_value_larger_than_budget_is_refused(tmp_path: Path) -> None:
    store = DiskLRU(tmp_path, 100)
    assert not store.write("big", b"y" * 1000)
    assert not store.has("big")


def test_overwrite_updates_size(tmp_path: Path) -> None:
    store = DiskLRU(tmp_path, 10_000)
    store.write("a", b"x" * 100)
    first = store.size_bytes()
    store.write("a", b"x" * 300)
    assert store.size_bytes() > first
    assert store.keys() == ["a"]


def test_warm_start_keeps_entries_and_lru_order(tmp_path: Path) -> None:
    store = DiskLRU(tmp_path, 10_000)
    store.write("old", 1)
    store.write("new", 2)
    past = time.time() - 100
    pkl_old = next(
        p for p in tmp_path.glob("*.pkl") if (p.with_suffix(".key")).read_text() == "old"
    )
    os.utime(pkl_old, (past, past))
    again = DiskLRU(tmp_path, 10_000)
    assert again.keys() == ["old", "new"]
    assert again.read("new") == (True, 2)
    # A smaller budget on restart evicts the least recently used first.
    size_one = again.size_bytes() // 2 + 1
    assert DiskLRU(tmp_path, size_one).keys() == ["new"]


def test_corrupt_pickle_is_a_miss(tmp_path: Path) -> None:
    store = DiskLRU(tmp_path, 10_000)
    store.write("a", 1)
    next(tmp_path.glob("*.pkl")).write_bytes(b"not a pickle")
    assert store.read("a") == (False, None)
    assert not store.has("a")


def test_evict_and_flush_remove_files(tmp_path: Path) -> None:
    store = DiskLRU(tmp_path, 10_000)
    store.write("a", 1)
    store.write("b", 2)
    assert store.evict("a") and not store.evict("a")
    assert store.keys() == ["b"] and len(list(tmp_path.iterdir())) == 2
    store.flush()
    assert store.keys() == [] and store.size_bytes() == 0
    assert not list(tmp_path.iterdir())
    assert DiskLRU(tmp_path, 10_000).keys() == []
