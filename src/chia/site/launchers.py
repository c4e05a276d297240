"""Launchers: start one host process per agent, watch them, and stop them all.

Processes stay in the launcher's process group, so Ctrl-C in a terminal (or a kill of the
whole group) reaches every rank at once; each host process also asks the kernel to stop
it if the launcher dies (:func:`chia.site.lifeline.die_with_parent`). Stopping a site
sends SIGTERM to each process, waits a grace period, then SIGKILLs what is left. Output
is echoed to the terminal and kept in ``logs/``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import IO

from chia.errors import ChiaUsageError
from chia.processes import stop_processes
from chia.profiles import SystemProfile
from chia.site.environment import forwarded_proxies
from chia.site.launch import SiteLaunch

__all__ = ["Launcher", "LocalLauncher", "MpiexecLauncher", "make_launcher"]


def _host_command(launch: SiteLaunch, *extra: str) -> list[str]:
    return [sys.executable, "-m", "chia.site.host", str(launch.path), *extra]


def _pump(stream: IO[str], log_path: Path) -> None:
    """Copy a child's output to our stdout and to its log file, line by line."""
    with log_path.open("a", encoding="utf-8") as log:
        for line in stream:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            log.flush()


class Launcher:
    """Starts the host commands and stops them together.

    Args:
        launch: The site launch (for the log directory).
        env: The environment of every process.
    """

    kind = "base"

    def __init__(self, launch: SiteLaunch, env: Mapping[str, str]) -> None:
        self.launch = launch
        self.env = dict(env)
        self.processes: list[subprocess.Popen[str]] = []
        self._pumps: list[threading.Thread] = []

    def commands(self) -> list[tuple[list[str], str]]:
        """Return ``(argv, log name)`` for each process to start."""
        raise NotImplementedError

    def start(self) -> None:
        """Start every process."""
        log_dir = self.launch.site_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        for argv, log_name in self.commands():
            proc = subprocess.Popen(
                argv,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            self.processes.append(proc)
            assert proc.stdout is not None
            pump = threading.Thread(
                target=_pump, args=(proc.stdout, log_dir / f"{log_name}.log"), daemon=True
            )
            pump.start()
            self._pumps.append(pump)

    def poll(self) -> list[int] | None:
        """Return every exit code once all processes have exited, else None."""
        codes = [proc.poll() for proc in self.processes]
        if any(code is None for code in codes):
            return None
        for pump in self._pumps:
            pump.join(timeout=2)
        return [code for code in codes if code is not None]

    def terminate(self, grace_s: float = 5.0) -> None:
        """SIGTERM every process, wait ``grace_s``, then SIGKILL what is left."""
        stop_processes(self.processes, grace_s)


class LocalLauncher(Launcher):
    """One subprocess per agent on this machine (one for all with the local exchange)."""

    kind = "local"

    def commands(self) -> list[tuple[list[str], str]]:
        """One ``--rank r`` host per process, or one ``--all`` host for in-process exchanges."""
        launch = self.launch
        if launch.exchange.kind == "local":
            return [(_host_command(launch, "--all"), "site")]
        commands = []
        for rank in range(launch.process_count):
            indices = launch.agents_for_rank(rank)
            log = launch.agents[indices[0]] if len(indices) == 1 else f"rank{rank}"
            commands.append((_host_command(launch, "--rank", str(rank)), log))
        return commands


class MpiexecLauncher(Launcher):
    """``mpiexec -n <ranks> python -m chia.site.host launch.json``: rank r hosts its share.

    Proxy variables are forwarded explicitly with ``-genv`` when the exchange needs the
    internet: some launchers (PALS) do not pass the parent's environment reliably.
    """

    kind = "mpiexec"

    def __init__(self, launch: SiteLaunch, env: Mapping[str, str], profile: SystemProfile) -> None:
        super().__init__(launch, env)
        self.profile = profile

    def executable(self) -> str:
        """The MPI launcher: the profile's command, found on PATH or beside our Python."""
        command = self.profile.launcher.command
        beside = Path(sys.executable).parent / command
        found = shutil.which(command, path=self.env.get("PATH")) or (
            str(beside) if beside.exists() else None
        )
        if found is None:
            raise ChiaUsageError(
                f"launcher {command!r} not found on PATH (install the mpich wheel, or set "
                "launcher.command in the profile)"
            )
        return found

    def commands(self) -> list[tuple[list[str], str]]:
        """The single mpiexec command line."""
        if self.launch.exchange.kind == "local":
            raise ChiaUsageError(
                "the local exchange is in-process; use --exchange http|redis with mpiexec"
            )
        argv = [self.executable(), "-n", str(self.launch.process_count)]
        if self.profile.launcher.ppn:
            argv += ["-ppn", str(self.profile.launcher.ppn)]
        argv += self.profile.launcher.flags
        for name, value in forwarded_proxies(self.env, self.launch.exchange).items():
            argv += ["-genv", name, value]
        return [([*argv, *_host_command(self.launch)], "mpiexec")]


def make_launcher(launch: SiteLaunch, profile: SystemProfile, env: Mapping[str, str]) -> Launcher:
    """Build the launcher the launch names.

    Raises:
        ChiaUsageError: For the ``ray`` launcher without a Ray address.
    """
    if launch.launcher == "local":
        return LocalLauncher(launch, env)
    if launch.launcher == "mpiexec":
        return MpiexecLauncher(launch, env, profile)
    from chia.site.ray_launcher import RayLauncher

    return RayLauncher(launch, env)
