"""Supervision: restart a dead host process under the same uid, within a restart budget.

A host process that dies (a signal, or exit code 1) is started again with the same argv
after a backoff, with ``CHIA_RESTART=<n>`` and ``CHIA_RESTART_CAUSE=<how it ended>`` in its
environment, so the new incarnation knows to recover from its journal. Exit codes 0 (the
agent finished) and 2 (its peers never answered, after the whole startup timeout) are the
host's own verdicts and are never restarted. When the budget is spent the site gives up:
an ``agent_gave_up`` event goes into each of that process's agents' own events file and
their status reads failed.

Where supervision runs, per launcher:

* local: spawn-site itself (:class:`ProcessSupervisor` inside the launcher's watch loop).
* mpiexec: inside each rank. Hydra (the mpich wheel, measured) takes the whole job down
  when one rank is killed by a signal ("BAD TERMINATION ... CLEANING UP REMAINING
  PROCESSES") and has no per-rank restart, while a rank that *exits* non-zero leaves the
  others running. So every rank is ``python -m chia.site.supervisor launch.json``, a small
  process that imports no Academy, Ray or model stack, never dies of its agent's faults,
  and runs ``python -m chia.site.host launch.json --rank r`` as its child (the host ties
  its life to the supervisor's with :func:`~chia.processes.die_with_parent`). A
  SIGKILLed host is then a child's death, not a rank's. SIGTERM (or SIGINT, SIGHUP) to
  the supervisor is forwarded to the host as SIGTERM and waited for.
* ray: the driver re-creates a dead actor (:mod:`chia.site.ray_driver`), with the same
  :class:`RestartPolicy`.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any, Generic, Literal, Protocol, TypeVar

from chia.events import (
    AgentGaveUp,
    AgentState,
    AgentStatus,
    EventWriter,
    LamportClock,
    events_path,
    read_snapshot,
    write_snapshot,
)
from chia.site.launch import SiteLaunch

__all__ = [
    "FINAL_EXIT_CODES",
    "RESTART_CAUSE_ENV",
    "RESTART_ENV",
    "Child",
    "ProcessSupervisor",
    "RestartPolicy",
    "died_line",
    "exit_cause",
    "gave_up_line",
    "gave_up_reason",
    "last_clock",
    "main",
    "process_label",
    "record_gave_up",
    "restart_env",
]

#: Set on a restarted incarnation: 1 for the first restart.
RESTART_ENV = "CHIA_RESTART"
#: Set on a restarted incarnation: how the previous one ended, e.g. ``signal 9``.
RESTART_CAUSE_ENV = "CHIA_RESTART_CAUSE"
#: Host exit codes that are verdicts, not faults: 0 finished, 2 peers never answered.
FINAL_EXIT_CODES = frozenset({0, 2})
_TAIL_BYTES = 64 * 1024
_STOP_GRACE_S = 10.0
_POLL_S = 0.05

Verdict = Literal["final", "restart", "give_up"]


@dataclass(frozen=True)
class RestartPolicy:
    """How often and how soon a dead host process is started again.

    The first restart comes fast (a SIGKILLed agent answers pings again within about
    two seconds on the local launcher); later ones back off geometrically up to a cap,
    so a process that dies at once does not spin.

    Args:
        max_restarts: Restarts allowed before giving up (``SiteLaunch.max_restarts``).
        first_delay_s: Wait before the first restart.
        factor: Each further restart waits this many times longer.
        max_delay_s: The longest wait.
    """

    max_restarts: int = 3
    first_delay_s: float = 0.1
    factor: float = 4.0
    max_delay_s: float = 5.0

    def delay(self, restart: int) -> float:
        """Seconds to wait before restart number ``restart`` (1 for the first)."""
        return min(self.max_delay_s, self.first_delay_s * self.factor ** max(0, restart - 1))

    def verdict(self, code: int, restarts_done: int) -> Verdict:
        """What to do about a process that ended with ``code`` after ``restarts_done``."""
        if code in FINAL_EXIT_CODES:
            return "final"
        return "restart" if restarts_done < self.max_restarts else "give_up"


def exit_cause(code: int) -> str:
    """Describe a ``Popen.returncode``: ``signal 9`` (negative) or ``exit code 1``."""
    return f"signal {-code}" if code < 0 else f"exit code {code}"


def restart_env(restart: int, cause: str) -> dict[str, str]:
    """The environment a restarted incarnation gets (see the host's restart contract)."""
    return {RESTART_ENV: str(restart), RESTART_CAUSE_ENV: cause}


def process_label(site: str, agents: Sequence[str], rank: int) -> str:
    """``[<site>] agent-crux (rank 1)``: the prefix of supervision landmark lines."""
    return f"[{site}] {','.join(agents)} (rank {rank})"


def gave_up_reason(restarts: int, cause: str) -> str:
    """``gave up after 3 restarts (signal 9)``: the agent's failure, as status and exit."""
    return f"gave up after {restarts} restarts ({cause})"


def last_clock(path: Path) -> int:
    """The highest Lamport clock among the last complete lines of an events file.

    Reads only the file's tail; a torn last line (no newline yet) and malformed lines are
    skipped. Returns 0 for a missing or empty file. Taking the maximum over the tail,
    not the very last line, covers writers whose lines land slightly out of clock order.
    """
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read()
    except FileNotFoundError:
        return 0
    lines = tail.split(b"\n")[:-1]  # the last piece is torn (or empty after a newline)
    if size > _TAIL_BYTES and lines:
        lines = lines[1:]  # the first piece may start mid-line
    best = 0
    for line in lines:
        try:
            clock = json.loads(line).get("clock")
        except (ValueError, AttributeError):
            continue
        if isinstance(clock, int) and not isinstance(clock, bool):
            best = max(best, clock)
    return best


def record_gave_up(launch: SiteLaunch, agents: Sequence[str], restarts: int, cause: str) -> None:
    """Append ``agent_gave_up`` to each agent's own events file and mark its status failed.

    The agents' process is dead, so their files have no other writer now; each event's
    clock continues after the highest one in the file.
    """
    for agent in agents:
        path = events_path(launch.site_dir, agent)
        _end_torn_line(path)
        writer = EventWriter(
            path,
            run_id=launch.run_id,
            site=launch.site,
            writer=agent,
            clock=LamportClock(last_clock(path)),
        )
        try:
            writer.emit(AgentGaveUp, restarts=restarts, cause=cause)
        finally:
            writer.close()
        _mark_failed(launch, agent, gave_up_reason(restarts, cause), restarts)


def _end_torn_line(path: Path) -> None:
    """Close a torn last line with a newline, so our event starts a line of its own.

    The torn line then reads as one malformed line, which readers skip.
    """
    try:
        with path.open("rb+") as handle:
            if handle.seek(0, os.SEEK_END) == 0:
                return
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                handle.write(b"\n")
    except FileNotFoundError:
        pass


def _mark_failed(launch: SiteLaunch, agent: str, reason: str, restarts: int) -> None:
    status_path = launch.site_dir / "status" / f"{agent}.json"
    old = read_snapshot(status_path, AgentStatus)
    now = datetime.now(timezone.utc)
    fields = {"state": AgentState.FAILED, "last_error": reason, "restarts": restarts}
    if old is not None:
        status = old.model_copy(update={**fields, "updated": now})
    else:
        status = AgentStatus(
            run_id=launch.run_id, site=launch.site, agent=agent, uid="", updated=now, **fields
        )
    write_snapshot(status_path, status)


class Child(Protocol):
    """What a supervisor needs of a child: ``Popen.poll`` (a Ray actor can pose as one)."""

    def poll(self) -> int | None:
        """The exit code once the child has ended, else None."""
        ...


C = TypeVar("C", bound=Child)


def died_line(label: str, cause: str, restart: int, max_restarts: int) -> str:
    """``[s] agent-crux (rank 1) died: signal 9; restart 1/3``."""
    return f"{label} died: {cause}; restart {restart}/{max_restarts}"


def gave_up_line(label: str, restarts: int, cause: str) -> str:
    """``[s] agent-crux (rank 1) gave up after 3 restarts: signal 9``."""
    return f"{label} gave up after {restarts} restarts: {cause}"


class ProcessSupervisor(Generic[C]):
    """Watches one child process and restarts it by its policy; never blocks.

    Call :meth:`check` regularly (every tenth of a second or so). Spawning is left to
    the caller (``spawn(extra_env)``), which decides where output goes; it runs on the
    calling thread, which must outlive the child (``PR_SET_PDEATHSIG`` is per thread).

    Args:
        label: The landmark prefix (:func:`process_label`).
        spawn: Starts the process with ``extra_env`` added to its environment.
        policy: The restart policy; None never restarts (a plain watched process).
        on_give_up: Called with ``(restarts, cause)`` once the budget is spent.
        say: Where landmark lines go.
        describe: How a child ended, from it and its code (default :func:`exit_cause`).
    """

    def __init__(
        self,
        label: str,
        spawn: Callable[[Mapping[str, str]], C],
        policy: RestartPolicy | None,
        *,
        on_give_up: Callable[[int, str], None] | None = None,
        say: Callable[[str], None] = print,
        describe: Callable[[C], str] | None = None,
    ) -> None:
        self.label = label
        self.policy = policy
        self.proc: C | None = None
        self.restarts = 0
        self.cause: str | None = None
        self.gave_up = False
        self.code: int | None = None
        self._spawn = spawn
        self._describe = describe
        self._on_give_up = on_give_up
        self._say = say
        self._restart_at: float | None = None
        self._stopping = False

    def start(self) -> None:
        """Start the first incarnation."""
        self.proc = self._spawn({})

    @property
    def running(self) -> bool:
        """True while the current incarnation's process has not exited."""
        return self.proc is not None and self.proc.poll() is None

    @property
    def alive(self) -> bool:
        """True until a final exit code is known (running, or waiting to restart)."""
        return self.code is None

    def stop(self) -> None:
        """Restart nothing from now on (the site is stopping)."""
        self._stopping = True

    def check(self) -> int | None:
        """Restart a dead process when due; return the final exit code once known.

        The final code is the host's (0, 2), 1 after giving up or after a stop, and
        whatever a policy-less process returned.
        """
        if self.code is not None:
            return self.code
        if self._restart_at is not None:
            if self._stopping:
                self.code = 1
            elif time.monotonic() >= self._restart_at:
                self._restart_at = None
                assert self.cause is not None
                self.proc = self._spawn(restart_env(self.restarts, self.cause))
            return self.code
        if self.proc is None:
            return None
        code = self.proc.poll()
        if code is None:
            return None
        if self.policy is None:
            self.code = code
            return code
        verdict = self.policy.verdict(code, self.restarts)
        if verdict == "final" or self._stopping:
            self.code = code if verdict == "final" else 1
            return self.code
        self.cause = exit_cause(code) if self._describe is None else self._describe(self.proc)
        if verdict == "restart":
            self.restarts += 1
            self._say(died_line(self.label, self.cause, self.restarts, self.policy.max_restarts))
            self._restart_at = time.monotonic() + self.policy.delay(self.restarts)
            return None
        self._say(gave_up_line(self.label, self.restarts, self.cause))
        self.gave_up = True
        if self._on_give_up is not None:
            self._on_give_up(self.restarts, self.cause)
        self.code = 1
        return 1


def _say(text: str) -> None:
    print(text, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Supervise this rank's host process; exit with its final code (1 after giving up)."""
    from chia.processes import die_with_parent
    from chia.site.rank import detect_rank

    parser = argparse.ArgumentParser(prog="python -m chia.site.supervisor", description=__doc__)
    parser.add_argument("launch", help="Path of the site's launch.json.")
    parser.add_argument("--rank", type=int, help="The rank to host (default: from env).")
    args = parser.parse_args(argv)
    die_with_parent()
    launch = SiteLaunch.read(Path(args.launch))
    rank = detect_rank() if args.rank is None else args.rank
    agents = [launch.agents[i] for i in launch.agents_for_rank(rank)]
    host = [sys.executable, "-m", "chia.site.host", str(launch.path), "--rank", str(rank)]

    def spawn(extra: Mapping[str, str]) -> subprocess.Popen[Any]:
        return subprocess.Popen(host, env={**os.environ, **extra}, stdin=subprocess.DEVNULL)

    supervisor = ProcessSupervisor(
        process_label(launch.site, agents, rank),
        spawn,
        RestartPolicy(max_restarts=launch.max_restarts),
        on_give_up=lambda restarts, cause: record_gave_up(launch, agents, restarts, cause),
        say=_say,
    )
    stopping: list[float] = []

    def on_signal(signum: int, frame: FrameType | None) -> None:
        supervisor.stop()
        if not stopping:
            stopping.append(time.monotonic())
        if supervisor.running and supervisor.proc is not None:
            supervisor.proc.send_signal(signal.SIGTERM)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, on_signal)
    supervisor.start()
    while (code := supervisor.check()) is None:
        if stopping and time.monotonic() - stopping[0] > _STOP_GRACE_S and supervisor.proc:
            supervisor.proc.kill()
        time.sleep(_POLL_S)
    return 0 if code == 0 else (2 if code == 2 else 1)


if __name__ == "__main__":
    sys.exit(main())
