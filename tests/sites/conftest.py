"""The site-realism suite: namespaces for a laptop and two HPC sites (make test-sites).

Each scenario's phase timings are printed at the end of the session and written to
``test-artifacts/site-realism.md``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from chia.testing.netns import Topology, netns_available
from chia.testing.site_realism import LaptopExchange, Phases, serve_exchange

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = REPO_ROOT / "test-artifacts" / "site-realism.md"
_PHASES = pytest.StashKey[list[Phases]]()


#: ``--full`` or this variable set to 1: the long variants (a site 5 min late, not 60 s).
FULL_ENV = "CHIA_SITES_FULL"


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--full``: run the long variants of the scenarios."""
    parser.addoption(
        "--full",
        action="store_true",
        default=False,
        help=f"site realism: the long variants (a site 5 min late); also {FULL_ENV}=1",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Start an empty phase table."""
    config.stash[_PHASES] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print every scenario's phase timings and write them to test-artifacts."""
    recorded = terminalreporter.config.stash.get(_PHASES, [])
    rows = [row for phases in recorded for row in phases.rows()]
    if not rows:
        return
    table = "\n".join(["| scenario | phase | wall s |", "|---|---|---|", *rows]) + "\n"
    terminalreporter.section("site realism: wall time per phase")
    terminalreporter.write(table)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text("# Site realism: wall time per phase\n\n" + table)
    terminalreporter.write_line(f"(written to {ARTIFACT.relative_to(REPO_ROOT)})")


@pytest.fixture
def phases(request: pytest.FixtureRequest) -> Phases:
    """This scenario's phase timer (starts before its namespaces are built)."""
    timer = Phases(request.node.name.removeprefix("test_"))
    request.config.stash[_PHASES].append(timer)
    return timer


@pytest.fixture
def late_s(request: pytest.FixtureRequest) -> float:
    """How late the late site starts: 60 s, or 5 min with ``--full``."""
    full = request.config.getoption("--full") or os.environ.get(FULL_ENV) == "1"
    return 300.0 if full else 60.0


@pytest.fixture
def topo(phases: Phases, tmp_path: Path) -> Iterator[Topology]:
    """The laptop, aurora and crux namespaces, removed (with their processes) afterwards."""
    reason = netns_available()
    if reason:
        pytest.skip(reason)
    if shutil.which("tinyproxy") is None:
        pytest.skip("tinyproxy is not installed (bash scripts/system-deps.sh)")
    with Topology(workdir=tmp_path) as topology:
        phases.mark("namespaces up")
        yield topology
    # Closing killed whatever was left in them and deleted them: none of ours may remain.
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert topology.prefix not in listed, listed


@pytest.fixture
def laptop_exchange(topo: Topology, tmp_path: Path) -> LaptopExchange:
    """``chia exchange serve`` on the laptop's address, with a shared token."""
    return serve_exchange(topo, tmp_path)
