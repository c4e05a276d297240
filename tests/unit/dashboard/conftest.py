"""Fixtures for the dashboard unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from chia.testing.sample_run import write_two_site_run


@pytest.fixture
def two_site_run(tmp_path: Path) -> Path:
    """A two-site run directory (see ``write_two_site_run``)."""
    return write_two_site_run(tmp_path)


@pytest.fixture(scope="session")
def sshd():
    """A real sshd on a free loopback port; aliases aurora-login and crux-login reach it."""
    from chia.testing.sshd import sshd_server

    with sshd_server(["aurora-login", "crux-login"]) as server:
        yield server
