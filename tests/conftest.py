"""Fixtures shared by every test: running the CLI as a user would, and sample files."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
CHIA = str(Path(sys.executable).parent / "chia")


def run_chia(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``chia`` console script and capture its output."""
    return subprocess.run(
        [CHIA, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def chia() -> Callable[..., subprocess.CompletedProcess[str]]:
    """The ``chia`` command, run in a subprocess."""
    return run_chia


@pytest.fixture
def federated_chat_dir() -> Path:
    """The packaged federated-chat campaign directory in this checkout."""
    return REPO_ROOT / "campaigns" / "federated-chat"
