"""Tool servers in these tests bind loopback; Ray is the shared session instance."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _loopback_tools() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CHIA_TOOL_HOST", "127.0.0.1")
        yield


def alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie."""
    stat = Path(f"/proc/{pid}/stat")
    try:
        state = stat.read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z" and os.path.exists(f"/proc/{pid}")
