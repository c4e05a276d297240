"""Real Ray, started once per test session (re-started if a cluster scenario stopped it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chia.testing.ray_cluster import ensure_local_ray, shutdown_ray


@pytest.fixture(scope="session")
def _ray_session() -> Iterator[None]:
    ensure_local_ray()
    yield
    shutdown_ray()


@pytest.fixture
def ray_local(_ray_session: None) -> None:
    ensure_local_ray()
