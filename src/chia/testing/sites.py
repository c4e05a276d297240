"""Run ``chia spawn-site`` as separate processes, as an operator would (for tests).

Each site runs in its own process group and session, with its output in a file, so a
test can signal one site (or kill its whole group) without touching the others or itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CHIA", "CliExchange", "Site", "SiteRunner"]

#: The ``chia`` console script next to this interpreter.
CHIA = str(Path(sys.executable).parent / "chia")


@dataclass(frozen=True)
class CliExchange:
    """A running exchange as a user names it on the command line."""

    kind: str
    url: str

    @property
    def args(self) -> list[str]:
        """``--exchange <kind> --exchange-url <url>`` (spawn-site, bootstrap)."""
        return ["--exchange", self.kind, "--exchange-url", self.url]


@dataclass
class Site:
    """A running ``chia spawn-site`` process and the file its output goes to."""

    proc: subprocess.Popen[str]
    log: Path

    def wait(self, timeout: float = 60) -> int:
        """Wait for the site to exit and return its exit code.

        Raises:
            AssertionError: If it is still running after ``timeout`` seconds; the message
                holds its output, which says where it is stuck.
        """
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"site still running after {timeout:g}s; output:\n{self.output}"
            ) from None

    @property
    def output(self) -> str:
        """Everything the site printed so far (stdout and stderr)."""
        return self.log.read_text(errors="replace")

    def wait_for_line(self, text: str, timeout: float = 30) -> None:
        """Wait until ``text`` appears in the output.

        Raises:
            AssertionError: If it never does (the site exited or ``timeout`` passed);
                the message holds the output.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"never saw {text!r}; output:\n{self.output}")


@dataclass
class SiteRunner:
    """Starts sites in their own process groups and SIGKILLs any left at :meth:`stop_all`.

    Args:
        tmp_path: Where run directories (``runs/``) and output files go.
    """

    tmp_path: Path
    sites: list[Site] = field(default_factory=list)

    @property
    def runs_dir(self) -> Path:
        """The ``--runs-dir`` every site is given."""
        return self.tmp_path / "runs"

    def start(self, *args: str, name: str = "site", env: dict[str, str] | None = None) -> Site:
        """Start ``chia spawn-site --runs-dir <runs> *args`` in a new session.

        Args:
            *args: The rest of the command line.
            name: Names the output file (``<name>-<n>.out``).
            env: Variables added to this process's environment.
        """
        log = self.tmp_path / f"{name}-{len(self.sites)}.out"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [CHIA, "spawn-site", "--runs-dir", str(self.runs_dir), *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                start_new_session=True,
                env={**os.environ, **env} if env else None,
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
        """SIGKILL the process group of every site still running, and reap it."""
        for site in self.sites:
            if site.proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
                    os.killpg(site.proc.pid, signal.SIGKILL)
                site.proc.wait()
