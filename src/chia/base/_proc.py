"""Terminate local process trees: SIGTERM, a grace period, then SIGKILL.

Works from ``/proc`` only (no psutil). A pid is identified together with its start time
so a recycled pid is never signalled by mistake.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass

__all__ = ["ProcessRef", "descendants", "is_alive", "process_ref", "terminate"]


@dataclass(frozen=True)
class ProcessRef:
    """A process on this node: its pid, its start time, and whether it leads a session."""

    pid: int
    start_time: int
    own_session: bool


def _stat_fields(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return text[text.rindex(")") + 2 :].split()


def _start_time(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def process_ref(pid: int) -> ProcessRef:
    """Describe the live process ``pid`` (start time, session leadership)."""
    start = _start_time(pid) or 0
    try:
        own_session = os.getsid(pid) == pid
    except OSError:
        own_session = False
    return ProcessRef(pid=pid, start_time=start, own_session=own_session)


def is_alive(proc: ProcessRef) -> bool:
    """True while ``proc`` still exists (and is not a zombie or a recycled pid)."""
    fields = _stat_fields(proc.pid)
    if fields is None or fields[0] == "Z":
        return False
    return proc.start_time == 0 or int(fields[19]) == proc.start_time


def descendants(pid: int) -> list[int]:
    """Return the pids of every live descendant of ``pid`` (children first)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = _stat_fields(int(entry))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _expand(proc: ProcessRef) -> list[ProcessRef]:
    """The process and its live descendants, captured now (before anyone is reparented)."""
    return [proc, *(process_ref(pid) for pid in descendants(proc.pid))]


def _signal(procs: list[ProcessRef], sig: signal.Signals) -> None:
    for proc in procs:
        if not is_alive(proc):
            continue
        if proc.own_session:
            with contextlib.suppress(OSError):
                os.killpg(proc.pid, sig)
        with contextlib.suppress(OSError):
            os.kill(proc.pid, sig)


def terminate(procs: list[ProcessRef], grace: float = 25.0) -> int:
    """SIGTERM each live process tree, wait up to ``grace`` s, then SIGKILL survivors.

    Args:
        procs: Processes on this node (with their start times, to skip recycled pids).
        grace: Seconds to wait after SIGTERM before escalating to SIGKILL.

    Returns:
        How many of ``procs`` were alive and signalled.
    """
    live = [proc for proc in procs if is_alive(proc)]
    tree = [member for proc in live for member in _expand(proc)]
    _signal(tree, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(is_alive(p) for p in tree):
        time.sleep(0.05)
    _signal(tree, signal.SIGKILL)
    return len(live)
