"""Launchers: start one host process per agent, watch them, and stop them all.

Processes stay in the launcher's process group, so Ctrl-C in a terminal (or a kill of the
whole group) reaches every rank at once; each host process also asks the kernel to stop
it if the launcher dies (:func:`chia.processes.die_with_parent`). Stopping a site
sends SIGTERM to each process, waits a grace period, then SIGKILLs what is left. Output
is echoed to the terminal and kept in ``logs/``.

Every process is watched by a :class:`~chia.site.supervisor.ProcessSupervisor`. The
local launcher's host processes are restarted by it when they die (same argv, same log
file, appended); under mpiexec each rank supervises its own host
(:mod:`chia.site.supervisor`), and the ray driver re-creates its actors, so their single
launcher process is only watched.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import IO

from chia.errors import ChiaUsageError
from chia.processes import die_with_parent, stop_processes
from chia.profiles import SystemProfile
from chia.site.environment import SiteRuntime, forwarded_proxies
from chia.site.launch import SiteLaunch
from chia.site.progress import AGGREGATE_ABOVE, SiteProgress
from chia.site.supervisor import ProcessSupervisor, RestartPolicy, process_label, record_gave_up

__all__ = ["Launcher", "LocalLauncher", "MpiexecLauncher"]


def _host_command(python: str, launch: SiteLaunch, *extra: str) -> list[str]:
    return [python, "-m", "chia.site.host", str(launch.path), *extra]


def _pump(stream: IO[str], log_path: Path, progress: SiteProgress | None) -> None:
    """Copy a child's output to its log file and, unless ``progress`` folds it, to stdout."""
    with log_path.open("a", encoding="utf-8") as log:
        for line in stream:
            if progress is None or not progress.line(line):
                sys.stdout.write(line)
                sys.stdout.flush()
            log.write(line)
            log.flush()


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class Launcher(ABC):
    """Starts the host commands, watches (and where it is its job, restarts) them, stops them.

    Args:
        launch: The site launch (for the log directory and the restart budget).
        env: The environment of every process.
        runtime: Their interpreter and working directory (the profile's ``venv`` and
            ``remote_root``, :func:`chia.site.environment.site_runtime`).
    """

    kind = "base"

    def __init__(
        self, launch: SiteLaunch, env: Mapping[str, str], runtime: SiteRuntime | None = None
    ) -> None:
        self.launch = launch
        self.env = dict(env)
        self.runtime = runtime or SiteRuntime()
        self._children: list[ProcessSupervisor[subprocess.Popen[str]]] = []
        self._pumps: list[threading.Thread] = []
        self.progress: SiteProgress | None = None
        if len(launch.agents) > AGGREGATE_ABOVE:
            self.progress = SiteProgress(launch.site, launch.agents, _say)

    @abstractmethod
    def commands(self) -> list[tuple[list[str], str]]:
        """Return ``(argv, log name)`` for each process to start."""

    def supervised(self, index: int) -> tuple[list[str], int] | None:
        """``(agents, rank)`` of command ``index`` if this launcher restarts it, else None."""
        return None

    def start(self) -> None:
        """Start every process (on the calling thread, which must outlive them)."""
        log_dir = self.launch.site_dir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        if self.progress is not None:
            self.progress.intro(str(log_dir))
        policy = RestartPolicy(max_restarts=self.launch.max_restarts)
        for index, (argv, log_name) in enumerate(self.commands()):
            spawn = partial(self._spawn, argv, log_dir / f"{log_name}.log")
            plan = self.supervised(index)
            if plan is None:
                child = ProcessSupervisor(f"[{self.launch.site}] {log_name}", spawn, None)
            else:
                agents, rank = plan
                child = ProcessSupervisor(
                    process_label(self.launch.site, agents, rank),
                    spawn,
                    policy,
                    on_give_up=partial(record_gave_up, self.launch, agents),
                    say=_say,
                )
            child.start()
            self._children.append(child)

    def _spawn(
        self, argv: list[str], log_path: Path, extra_env: Mapping[str, str]
    ) -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            argv,
            env={**self.env, **extra_env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=self.runtime.workdir,
            # mpiexec runs no code of ours: without this a SIGKILLed site orphans its job
            preexec_fn=die_with_parent,
        )
        assert proc.stdout is not None
        pump = threading.Thread(
            target=_pump, args=(proc.stdout, log_path, self.progress), daemon=True
        )
        pump.start()
        self._pumps.append(pump)
        return proc

    def poll(self) -> list[int] | None:
        """Restart what died and is due; return every final exit code once all are known."""
        codes = [child.check() for child in self._children]
        if self.progress is not None:
            self.progress.tick()
        if any(code is None for code in codes):
            return None
        for pump in self._pumps:
            pump.join(timeout=2)
        if self.progress is not None:
            self.progress.tick(last=True)
        return [code for code in codes if code is not None]

    def alive(self) -> bool:
        """True while any process this launcher started is still running."""
        return any(child.running for child in self._children)

    def pids(self) -> list[int]:
        """The pids of the processes running now (restarted ones have new pids)."""
        return [c.proc.pid for c in self._children if c.proc is not None and c.running]

    def terminate(self, grace_s: float = 5.0) -> None:
        """Restart nothing more; SIGTERM every process, wait ``grace_s``, SIGKILL the rest."""
        for child in self._children:
            child.stop()
        stop_processes([c.proc for c in self._children if c.proc is not None], grace_s)


class LocalLauncher(Launcher):
    """One subprocess per agent on this machine (one for all with the local exchange)."""

    kind = "local"

    def commands(self) -> list[tuple[list[str], str]]:
        """One ``--rank r`` host per process, or one ``--all`` host for in-process exchanges."""
        launch = self.launch
        if launch.exchange.kind == "local":
            return [(_host_command(self.runtime.python, launch, "--all"), "site")]
        commands = []
        for rank in range(launch.process_count):
            indices = launch.agents_for_rank(rank)
            log = launch.agents[indices[0]] if len(indices) == 1 else f"rank{rank}"
            argv = _host_command(self.runtime.python, launch, "--rank", str(rank))
            commands.append((argv, log))
        return commands

    def supervised(self, index: int) -> tuple[list[str], int] | None:
        """Every host process is restarted by spawn-site: command ``index`` is rank ``index``."""
        launch = self.launch
        if launch.exchange.kind == "local":
            return list(launch.agents), 0
        return [launch.agents[i] for i in launch.agents_for_rank(index)], index


class MpiexecLauncher(Launcher):
    """``mpiexec -n <ranks> python -m chia.site.supervisor launch.json``: rank r hosts its share.

    Each rank is a small supervisor whose child is the host process, restarted when it
    dies: Hydra would end the whole job if a rank itself were killed by a signal (see
    :mod:`chia.site.supervisor`).

    Proxy variables are forwarded explicitly with ``-genv`` when the exchange needs the
    internet: some launchers (PALS) do not pass the parent's environment reliably.
    """

    kind = "mpiexec"

    def __init__(
        self,
        launch: SiteLaunch,
        env: Mapping[str, str],
        profile: SystemProfile,
        runtime: SiteRuntime | None = None,
    ) -> None:
        super().__init__(launch, env, runtime)
        self.profile = profile

    def executable(self) -> str:
        """The MPI launcher: the profile's command, found on PATH or beside our Python."""
        command = self.profile.launcher.command
        beside = [Path(p).parent / command for p in (self.runtime.python, sys.executable)]
        found = shutil.which(command, path=self.env.get("PATH")) or next(
            (str(path) for path in beside if path.exists()), None
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
        supervisor = [self.runtime.python, "-m", "chia.site.supervisor", str(self.launch.path)]
        return [([*argv, *supervisor], "mpiexec")]
