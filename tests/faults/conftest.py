"""The fault suite's harness: sites, exchange servers, the leftover check and the table.

* ``sites``: runs ``chia spawn-site`` as an operator would (:class:`chia.testing.sites.SiteRunner`).
* ``exchange``: a fresh exchange server for one scenario (``http``: the self-hosted
  Academy exchange, in-memory; ``redis`` and ``redis-fast``: a real redis-server;
  ``push``: chia's push exchange, memory backend), chosen with
  ``@pytest.mark.parametrize("exchange", [...], indirect=True)``.
* ``fault_table``: collects one row per scenario (:mod:`chia.testing.faults`); the whole
  table is printed at the end of the session and written to ``test-artifacts/faults.md``.
* ``no_leftovers`` (autouse): after every scenario, no process of ours is left and no
  port it listened on (or that a fixture registered) still listens. "Ours": started
  during the scenario and either a descendant of this test process, or an orphan carrying
  this session's marker variable (every child inherits it) or the scenario's tmp dir in
  its command line. A process started by a service that was already running (a Ray
  raylet's workers) belongs to that service, not to the scenario.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from chia.exchange.push.process import PushServer
from chia.testing import http_exchange, redis_server
from chia.testing.faults import FaultRow, RunFigures, analyze_run, format_table, write_table
from chia.testing.proctree import ProcInfo, all_processes, port_is_listening, snapshot
from chia.testing.sites import CliExchange as Exchange
from chia.testing.sites import SiteRunner

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = REPO_ROOT / "test-artifacts" / "faults.md"
#: Set in this process for the session; every process it starts inherits it.
MARKER_ENV = "CHIA_FAULT_SUITE"
_ROWS = pytest.StashKey[list[FaultRow]]()
#: How long processes and ports may take to go away (SIGKILL and exits are asynchronous).
LEFTOVER_GRACE_S = 20.0


def pytest_configure(config: pytest.Config) -> None:
    """Mark the session's processes, and start an empty table."""
    os.environ.setdefault(MARKER_ENV, secrets.token_hex(8))
    config.stash[_ROWS] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the fault table (one row per scenario run) and write it to test-artifacts."""
    rows = terminalreporter.config.stash.get(_ROWS, [])
    if not rows:
        return
    terminalreporter.section("fault suite")
    terminalreporter.write(format_table(rows))
    write_table(rows, ARTIFACT)
    terminalreporter.write_line(f"(written to {ARTIFACT.relative_to(REPO_ROOT)})")


# -- the table -----------------------------------------------------------------------------


@dataclass
class FaultTable:
    """The session's rows; a scenario adds its own with :meth:`record` (or :meth:`add`)."""

    rows: list[FaultRow]

    def add(self, scenario: str, launcher: str, exchange: str, figures: RunFigures) -> None:
        """Add one row."""
        self.rows.append(FaultRow(scenario, launcher, exchange, figures))

    def record(
        self,
        scenario: str,
        launcher: str,
        exchange: str,
        run_dir: Path,
        *,
        killed_at: datetime | None = None,
    ) -> RunFigures:
        """Analyze ``run_dir`` (see :func:`chia.testing.faults.analyze_run`), add its row."""
        figures = analyze_run(run_dir, killed_at=killed_at)
        self.add(scenario, launcher, exchange, figures)
        return figures


@pytest.fixture(scope="session")
def fault_table(pytestconfig: pytest.Config) -> FaultTable:
    """Where scenarios put their row of the fault table."""
    return FaultTable(pytestconfig.stash[_ROWS])


# -- processes and ports left behind -------------------------------------------------------


@dataclass
class LeftoverWatch:
    """What existed before a scenario, and the ports it must leave unbound."""

    tmp_path: Path
    before: set[tuple[int, int]]
    ports: set[int] = field(default_factory=set)

    def watch_port(self, port: int) -> None:
        """Check after the scenario that nothing listens on ``port`` any more."""
        self.ports.add(port)

    def _marked(self, pid: int) -> bool:
        marker = f"{MARKER_ENV}={os.environ[MARKER_ENV]}".encode()
        with contextlib.suppress(OSError):
            return marker in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        return False

    def ours(self) -> list[ProcInfo]:
        """Processes started during the scenario that belong to it (see the module doc)."""
        me = os.getpid()
        procs = all_processes()
        found = []
        for info in procs.values():
            if info.pid == me or info.state == "Z" or info.key in self.before:
                continue
            ancestor = procs.get(info.ppid)
            while ancestor is not None and ancestor.key not in self.before:
                ancestor = procs.get(ancestor.ppid)
            if ancestor is not None and ancestor.pid == me:
                found.append(info)
                continue
            orphan = ancestor is None or not _descends_from(ancestor, me, procs)
            if orphan and (self._marked(info.pid) or str(self.tmp_path) in info.command):
                found.append(info)
        return found

    def left(self) -> tuple[list[ProcInfo], set[int]]:
        """Our processes still running, and ports still listening (watched or theirs)."""
        procs = self.ours()
        ports = {port for port in self.ports if port_is_listening(port)}
        for info in procs:
            ports |= snapshot(info.pid).ports
        return procs, ports


def _descends_from(info: ProcInfo, root: int, procs: dict[int, ProcInfo]) -> bool:
    seen: set[int] = set()
    while info.pid not in seen:
        if info.pid == root:
            return True
        seen.add(info.pid)
        parent = procs.get(info.ppid)
        if parent is None:
            return False
        info = parent
    return False


@pytest.fixture(autouse=True)
def no_leftovers(tmp_path: Path) -> Iterator[LeftoverWatch]:
    """Fail a scenario that leaves a process of ours running or a port of ours bound.

    Leftovers are SIGKILLed (by pid) once reported, so one scenario cannot spoil the next.
    """
    watch = LeftoverWatch(tmp_path, {info.key for info in all_processes().values()})
    yield watch
    deadline = time.monotonic() + LEFTOVER_GRACE_S
    procs, ports = watch.left()
    while (procs or ports) and time.monotonic() < deadline:
        time.sleep(0.2)
        procs, ports = watch.left()
    for info in procs:
        with contextlib.suppress(ProcessLookupError):
            os.kill(info.pid, signal.SIGKILL)
    if procs or ports:
        lines = [f"{p.pid} (ppid {p.ppid}, {p.state}) {p.command}" for p in procs]
        lines += [f"port {port} still listening" for port in sorted(ports)]
        pytest.fail("left behind after the scenario:\n" + "\n".join(lines), pytrace=False)


# -- sites and exchanges -------------------------------------------------------------------


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[SiteRunner]:
    """Start ``chia spawn-site`` processes; any still running at the end are SIGKILLed."""
    runner = SiteRunner(tmp_path)
    yield runner
    runner.stop_all()


@pytest.fixture
def exchange(request: pytest.FixtureRequest, no_leftovers: LeftoverWatch) -> Iterator[Exchange]:
    """A fresh exchange server for one scenario: ``http`` (default), ``redis``,
    ``redis-fast`` (both on a real redis-server) or ``push`` (``chia exchange serve
    --transport push``).
    """
    kind = getattr(request, "param", "http")
    if kind in ("redis", "redis-fast"):
        with redis_server() as redis:
            no_leftovers.watch_port(redis.port)
            yield Exchange(kind, redis.url())
    elif kind in ("http", "push"):
        with http_exchange() if kind == "http" else PushServer() as server:
            port = urlsplit(server.url).port
            assert port is not None, server.url
            no_leftovers.watch_port(port)
            yield Exchange(kind, server.url)
    else:
        raise ValueError(f"unknown exchange kind {kind!r} (http, redis, redis-fast or push)")
