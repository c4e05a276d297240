"""A directory of pickles with an LRU byte budget and a warm-start scan.

Each entry is two files named by the SHA-256 of its tag: ``<h>.pkl`` (the pickled value)
and ``<h>.key`` (the tag itself, so a warm start can rebuild the index without reading
values). Recency is kept in the pickles' mtimes, so LRU order survives a restart.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

from chia.base._ray_util import cloudpickle_dumps

__all__ = ["DiskLRU"]


def _stem(tag: str) -> str:
    return hashlib.sha256(tag.encode("utf-8")).hexdigest()[:40]


class DiskLRU:
    """Pickled values keyed by string tags, evicting least recently used past a budget.

    Args:
        directory: Where the files live (created if missing).
        budget_bytes: Total size of the pickles to keep.
    """

    def __init__(self, directory: str | Path, budget_bytes: int) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.budget_bytes = budget_bytes
        self._index: OrderedDict[str, int] = OrderedDict()
        self._total = 0
        self._warm_start()

    def _paths(self, tag: str) -> tuple[Path, Path]:
        stem = _stem(tag)
        return self.directory / f"{stem}.pkl", self.directory / f"{stem}.key"

    def _warm_start(self) -> None:
        found: list[tuple[float, str, int]] = []
        for key_file in self.directory.glob("*.key"):
            pkl = key_file.with_suffix(".pkl")
            try:
                tag = key_file.read_text(encoding="utf-8")
                stat = pkl.stat()
            except OSError:
                continue
            found.append((stat.st_mtime, tag, stat.st_size))
        for _mtime, tag, size in sorted(found):
            self._index[tag] = size
            self._total += size
        self._evict()

    def _evict(self) -> None:
        while self._total > self.budget_bytes and self._index:
            self.evict(next(iter(self._index)))

    def write(self, tag: str, value: Any) -> bool:
        """Store ``value`` under ``tag``; False when it alone exceeds the budget."""
        blob = cloudpickle_dumps(value)
        if len(blob) > self.budget_bytes:
            return False
        pkl, key = self._paths(tag)
        fd, tmp = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(blob)
        os.replace(tmp, pkl)
        key.write_text(tag, encoding="utf-8")
        self._total += len(blob) - self._index.pop(tag, 0)
        self._index[tag] = len(blob)
        self._evict()
        return True

    def read(self, tag: str) -> tuple[bool, Any]:
        """Return ``(True, value)`` on a hit, ``(False, None)`` on a miss."""
        if tag not in self._index:
            return False, None
        pkl, _key = self._paths(tag)
        try:
            value = pickle.loads(pkl.read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError):
            self._total -= self._index.pop(tag)
            return False, None
        self._index.move_to_end(tag)
        os.utime(pkl)
        return True, value

    def has(self, tag: str) -> bool:
        """True when ``tag`` is stored."""
        return tag in self._index

    def evict(self, tag: str) -> bool:
        """Delete ``tag``'s entry and its files; False when it was not stored."""
        size = self._index.pop(tag, None)
        if size is None:
            return False
        self._total -= size
        for path in self._paths(tag):
            path.unlink(missing_ok=True)
        return True

    def flush(self) -> None:
        """Delete every entry and its files."""
        for tag in list(self._index):
            self.evict(tag)
        self._total = 0

    def size_bytes(self) -> int:
        """Total size of the stored pickles."""
        return self._total

    def keys(self) -> list[str]:
        """Tags from least to most recently used."""
        return list(self._index)
