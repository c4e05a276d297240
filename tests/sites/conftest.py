"""The site-realism suite: namespaces for a laptop and two HPC sites (make test-sites)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chia.testing.netns import Topology, netns_available
from chia.testing.site_realism import LaptopExchange, serve_exchange


@pytest.fixture
def topo(tmp_path: Path) -> Iterator[Topology]:
    """The laptop, aurora and crux namespaces, removed (with their processes) afterwards."""
    reason = netns_available()
    if reason:
        pytest.skip(reason)
    if shutil.which("tinyproxy") is None:
        pytest.skip("tinyproxy is not installed (bash scripts/system-deps.sh)")
    with Topology(workdir=tmp_path) as topology:
        yield topology
    # Closing killed whatever was left in them and deleted them: none of ours may remain.
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert topology.prefix not in listed, listed


@pytest.fixture
def laptop_exchange(topo: Topology, tmp_path: Path) -> LaptopExchange:
    """``chia exchange serve`` on the laptop's address, with a shared token."""
    return serve_exchange(topo, tmp_path)
