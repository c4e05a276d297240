"""What a command started, read from ``/proc``: its processes and the ports they listen on.

For tests that must prove a command leaves nothing behind: take a :func:`snapshot` of
the command's process tree while it runs, stop or kill it, then :func:`leftovers` says
which of those processes (or any later one of its session) still run, and which of the
ports they listened on are still bound. A process is identified by pid *and* start time,
so a recycled pid is never mistaken for a leftover. Linux only.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "Leftovers",
    "ProcInfo",
    "Snapshot",
    "leftovers",
    "port_is_listening",
    "snapshot",
    "wait_for_no_leftovers",
]

_LISTEN = "0A"


@dataclass(frozen=True)
class ProcInfo:
    """One process as ``/proc/<pid>/stat`` shows it."""

    pid: int
    ppid: int
    pgid: int
    sid: int
    start: int
    state: str
    command: str

    @property
    def key(self) -> tuple[int, int]:
        """Pid and start time: unique even when pids are recycled."""
        return (self.pid, self.start)


def _read(pid: int) -> ProcInfo | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    # fields[0] is field 3 (state); ppid 4, pgrp 5, session 6, starttime 22.
    command = raw.replace(b"\0", b" ").decode(errors="replace").strip()
    return ProcInfo(
        pid=pid,
        ppid=int(fields[1]),
        pgid=int(fields[2]),
        sid=int(fields[3]),
        start=int(fields[19]),
        state=fields[0],
        command=command,
    )


def all_processes() -> dict[int, ProcInfo]:
    """Every process visible now, by pid."""
    found: dict[int, ProcInfo] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := _read(int(entry))) is not None:
            found[info.pid] = info
    return found


def _socket_inodes(pid: int) -> set[int]:
    inodes: set[int] = set()
    with contextlib.suppress(OSError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def _listening_by_inode() -> dict[int, int]:
    """Inode -> port of every listening TCP socket (IPv4 and IPv6)."""
    ports: dict[int, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                parts = line.split()
                if len(parts) > 9 and parts[3] == _LISTEN:
                    ports[int(parts[9])] = int(parts[1].rpartition(":")[2], 16)
    return ports


@dataclass(frozen=True)
class Snapshot:
    """A command's processes and listening ports at one moment.

    Attributes:
        root: The command's own pid (also its session id when started in a new session).
        processes: The root and every descendant.
        ports: TCP ports any of them listened on.
    """

    root: int
    processes: tuple[ProcInfo, ...]
    ports: frozenset[int]

    def describe(self) -> str:
        """One line per process, for assertion messages."""
        return "\n".join(f"{p.pid} (ppid {p.ppid}) {p.command}" for p in self.processes)


def snapshot(root: int) -> Snapshot:
    """The process tree under ``root`` (children by ppid, plus ``root``'s session)."""
    procs = all_processes()
    children: dict[int, list[int]] = {}
    for info in procs.values():
        children.setdefault(info.ppid, []).append(info.pid)
    tree: dict[int, ProcInfo] = {}
    todo = [root]
    while todo:
        pid = todo.pop()
        if pid in procs and pid not in tree:
            tree[pid] = procs[pid]
            todo.extend(children.get(pid, []))
    for info in procs.values():  # a re-parented orphan stays in the session it had
        if info.sid == root:
            tree.setdefault(info.pid, info)
    listening = _listening_by_inode()
    ports = {listening[i] for pid in tree for i in _socket_inodes(pid) if i in listening}
    return Snapshot(root, tuple(sorted(tree.values(), key=lambda p: p.pid)), frozenset(ports))


def port_is_listening(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        return sock.connect_ex((host, port)) == 0


@dataclass(frozen=True)
class Leftovers:
    """What still runs of a snapshot, and which of its ports are still bound."""

    processes: tuple[ProcInfo, ...]
    ports: frozenset[int]

    def __bool__(self) -> bool:
        return bool(self.processes or self.ports)

    def describe(self) -> str:
        """Human-readable, for assertion messages."""
        lines = [f"{p.pid} (ppid {p.ppid}, {p.state}) {p.command}" for p in self.processes]
        lines += [f"port {port} still listening" for port in sorted(self.ports)]
        return "\n".join(lines)


def leftovers(before: Snapshot) -> Leftovers:
    """The processes of ``before`` (or of its session) still running; its ports still bound.

    A zombie counts as gone: it has stopped running and holds no port.
    """
    keys = {p.key for p in before.processes}
    alive = [
        info
        for info in all_processes().values()
        if info.state != "Z" and (info.key in keys or info.sid == before.root)
    ]
    bound = frozenset(port for port in before.ports if port_is_listening(port))
    return Leftovers(tuple(sorted(alive, key=lambda p: p.pid)), bound)


def wait_for_no_leftovers(before: Snapshot, timeout_s: float = 15.0) -> Leftovers:
    """Poll :func:`leftovers` until nothing is left or ``timeout_s`` passes; return the last.

    SIGKILL and exits are asynchronous, and a child told by its lifeline to stop takes a
    moment to do so: the timeout only bounds the wait, it is never what is measured.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        left = leftovers(before)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.1)
