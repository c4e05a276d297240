"""Run ``chia spawn-site`` and friends as separate processes, as an operator would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CHIA = str(Path(sys.executable).parent / "chia")


@dataclass
class Site:
    """A running ``chia spawn-site`` process and its captured output."""

    proc: subprocess.Popen[str]
    log: Path

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)

    @property
    def output(self) -> str:
        return self.log.read_text()

    def wait_for_line(self, text: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"never saw {text!r}; output:\n{self.output}")


class SiteRunner:
    """Starts sites in their own process groups and stops any left at teardown."""

    def __init__(self, tmp_path: Path) -> None:
        self.runs_dir = tmp_path / "runs"
        self.tmp_path = tmp_path
        self.sites: list[Site] = []

    def start(self, *args: str, name: str = "site") -> Site:
        log = self.tmp_path / f"{name}-{len(self.sites)}.out"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [CHIA, "spawn-site", "--runs-dir", str(self.runs_dir), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
            )
        site = Site(proc, log)
        self.sites.append(site)
        return site

    @staticmethod
    def alive(pids: list[int]) -> list[int]:
        """The pids among ``pids`` that still exist."""
        alive = []
        for pid in pids:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                continue
            alive.append(pid)
        return alive

    def stop_all(self) -> None:
        for site in self.sites:
            if site.proc.poll() is None:
                os.killpg(site.proc.pid, signal.SIGKILL)
                site.proc.wait()


@pytest.fixture
def sites(tmp_path: Path) -> Iterator[SiteRunner]:
    runner = SiteRunner(tmp_path)
    yield runner
    runner.stop_all()
