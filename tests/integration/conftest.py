"""Run ``chia spawn-site`` and friends as separate processes, as an operator would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chia.testing.sites import CHIA, Site, SiteRunner

__all__ = ["CHIA", "Site", "SiteRunner"]


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[SiteRunner]:
    runner = SiteRunner(tmp_path)
    yield runner
    runner.stop_all()
