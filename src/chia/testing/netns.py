"""Two HPC sites and a laptop as Linux network namespaces joined by veth pairs (root only).

The picture (every address exists only inside the namespaces made here)::

    laptop  10.200.0.1 (service address on lo; the exchange binds here)
      |-- 10.200.1.1/24 <-> 10.200.1.2/24  aurora-login
      |                                      |-- 10.200.11.1/24 <-> 10.200.11.2/24  aurora-compute
      |-- 10.200.2.1/24 <-> 10.200.2.2/24  crux-login
                                             |-- 10.200.12.1/24 <-> 10.200.12.2/24  crux-compute

A login reaches the laptop's service address through a host route over its link. A
compute namespace has only the connected route of its link to its login: no default
route, and its login does not forward (``net.ipv4.ip_forward=0``), so the laptop is
unreachable from it except through the HTTP proxy its login runs
(:mod:`chia.testing.tinyproxy`). Nothing is routed to the host's own network.

Every namespace and veth name starts with a per-run prefix ``chia-nt<pid>x<token>``
(veths, limited to 15 characters, use ``n<token><code>``), so two runs never collide. A
:class:`Topology` removes everything it made on every exit path: normal exit, exceptions,
Ctrl-C and SIGTERM (turned into KeyboardInterrupt while it is open, in the main thread);
leftovers of a SIGKILLed run are swept when the next one starts (namespaces whose creating
pid is gone; their processes are killed first).

Host names: :meth:`Topology.name_host` makes a name resolve inside one namespace (a
login's name for its compute node, see :mod:`chia.testing.login_node`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from chia.processes import is_running, stop_processes

__all__ = [
    "LAPTOP_ADDRESS",
    "PREFIX",
    "Link",
    "Topology",
    "netns_available",
    "sweep_stale",
    "topology",
]

#: The root of every namespace name this module creates.
PREFIX = "chia-nt"
#: The laptop's service address (on its loopback), routed to from both login namespaces.
LAPTOP_ADDRESS = "10.200.0.1"
_SITE_NUMBERS = {"aurora": 1, "crux": 2}
#: Per-namespace files ``ip netns exec`` bind-mounts over ``/etc`` (``hosts`` here).
ETC_NETNS = Path("/etc/netns")


def netns_available() -> str | None:
    """None when namespaces can be made here; otherwise why not (a skip reason)."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add)"
    if not Path("/usr/sbin/ip").exists() and not Path("/sbin/ip").exists():
        return "iproute2 (ip) is not installed"
    return None


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``ip ARGS``; on failure raise with its stderr (which says what is wrong)."""
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


def _namespaces() -> list[str]:
    listed = _ip("netns", "list", check=False).stdout.splitlines()
    return [line.split()[0] for line in listed if line.strip()]


def _kill_and_delete(name: str) -> None:
    """SIGKILL every process left in namespace ``name``, then delete it (and its veths).

    Its ``/etc/netns/<name>`` directory (the hosts file ``ip netns exec`` mounts) goes too.
    """
    pids = _ip("netns", "pids", name, check=False).stdout.split()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid), signal.SIGKILL)
    _ip("netns", "delete", name, check=False)
    shutil.rmtree(ETC_NETNS / name, ignore_errors=True)


def sweep_stale() -> list[str]:
    """Delete the namespaces of runs whose creating process is gone; return their names.

    Namespaces of runs still alive (another test session) are left alone.
    """
    swept = []
    # A hosts directory whose namespace is gone was left by a killed run too.
    leftovers = [p.name for p in ETC_NETNS.glob(f"{PREFIX}*")] if ETC_NETNS.is_dir() else []
    for name in dict.fromkeys([*_namespaces(), *leftovers]):
        if not name.startswith(PREFIX):
            continue
        owner = name[len(PREFIX) :].split("x", 1)[0]
        if owner.isdigit() and is_running(int(owner)):
            continue
        _kill_and_delete(name)
        swept.append(name)
    return swept


@dataclass(frozen=True)
class Link:
    """One veth pair: ``a`` and ``b`` are roles, each end with its /24 address."""

    a: str
    b: str
    subnet: int
    code: str

    def address(self, role: str) -> str:
        """The address of ``role``'s end (``.1`` on the ``a`` side, ``.2`` on ``b``)."""
        if role not in (self.a, self.b):
            raise KeyError(f"{role} is not on the {self.a}-{self.b} link")
        return f"10.200.{self.subnet}.{1 if role == self.a else 2}"


@dataclass
class Topology:
    """The laptop, and a login and a compute namespace per site, as a context manager.

    Args:
        sites: Site names, among ``aurora`` and ``crux``.
        workdir: Where logs of the processes started here go.

    Roles are ``laptop``, ``<site>-login`` and ``<site>-compute``; :meth:`name` gives the
    namespace of a role, :meth:`argv` a command line run in it, :meth:`popen` a tracked
    background process (stopped, with anything else left in the namespace, on exit).
    """

    sites: Sequence[str] = ("aurora", "crux")
    workdir: Path = field(default_factory=lambda: Path("/tmp"))
    token: str = field(default_factory=lambda: secrets.token_hex(3))
    links: list[Link] = field(default_factory=list)
    procs: list[subprocess.Popen[Any]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    _old_sigterm: Any = None

    @property
    def prefix(self) -> str:
        """This run's namespace name prefix (holds the creating pid, for the sweep)."""
        return f"{PREFIX}{os.getpid()}x{self.token}"

    def roles(self) -> list[str]:
        """Every role, the laptop first."""
        return ["laptop", *(f"{s}-{kind}" for s in self.sites for kind in ("login", "compute"))]

    def name(self, role: str) -> str:
        """The namespace name of ``role``."""
        if role not in self.roles():
            raise KeyError(f"no namespace {role!r} (roles: {', '.join(self.roles())})")
        return f"{self.prefix}-{role}"

    def link(self, a: str, b: str) -> Link:
        """The link between roles ``a`` and ``b`` (either order)."""
        for link in self.links:
            if {link.a, link.b} == {a, b}:
                return link
        raise KeyError(f"no link between {a} and {b}")

    def address(self, role: str, facing: str) -> str:
        """The address of ``role`` on its link to ``facing``."""
        return self.link(role, facing).address(role)

    def argv(self, role: str, *command: str) -> list[str]:
        """``ip netns exec <ns> COMMAND``: run ``command`` inside ``role``'s namespace."""
        return ["ip", "netns", "exec", self.name(role), *command]

    def run(
        self, role: str, *command: str, env: Mapping[str, str] | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` in ``role``'s namespace to completion; output captured."""
        return subprocess.run(
            self.argv(role, *command),
            capture_output=True,
            text=True,
            env=dict(env) if env is not None else None,
            timeout=timeout,
            check=False,
        )

    def popen(
        self,
        role: str,
        *command: str,
        log: Path,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start ``command`` in ``role``'s namespace in its own session, output to ``log``.

        It is tracked: SIGTERMed (then SIGKILLed) when the topology closes.
        """
        with log.open("wb") as out:
            proc = subprocess.Popen(
                self.argv(role, *command),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                start_new_session=True,
            )
        self.procs.append(proc)
        return proc

    def set_link(self, a: str, b: str, *, up: bool) -> None:
        """Bring both ends of the ``a``-``b`` veth down or up (a site losing its network).

        Bringing it up restores the routes the kernel removed with it.
        """
        link = self.link(a, b)
        for role, end in ((link.a, "a"), (link.b, "b")):
            state = "up" if up else "down"
            _ip("-n", self.name(role), "link", "set", self._veth(link, end), state)
        if up:
            self._route_logins()

    def name_host(self, role: str, host: str, address: str) -> None:
        """Make ``host`` resolve to ``address`` in ``role``'s namespace (as site DNS would).

        Writes ``/etc/netns/<namespace>/hosts`` (this machine's ``/etc/hosts`` plus the
        names given so far), which ``ip netns exec`` mounts over ``/etc/hosts`` for every
        command it starts there later; it is removed with the namespace.
        """
        folder = ETC_NETNS / self.name(role)
        folder.mkdir(parents=True, exist_ok=True)
        hosts = folder / "hosts"
        base = hosts.read_text() if hosts.exists() else Path("/etc/hosts").read_text()
        hosts.write_text(base.rstrip("\n") + f"\n{address} {host}\n")

    def processes_left(self) -> dict[str, list[int]]:
        """The pids still running in each namespace (empty lists when nothing is left)."""
        return {
            role: [
                int(p) for p in _ip("netns", "pids", self.name(role), check=False).stdout.split()
            ]
            for role in self.roles()
        }

    def _veth(self, link: Link, end: str) -> str:
        return f"n{self.token}{link.code}{end}"

    def _build(self) -> None:
        for role in self.roles():
            name = self.name(role)
            _ip("netns", "add", name)
            self.created.append(name)
            _ip("-n", name, "link", "set", "lo", "up")
            # Nothing forwards between links: a compute node's only way out is the proxy.
            self.run(role, "sysctl", "-qw", "net.ipv4.ip_forward=0")
        _ip("-n", self.name("laptop"), "addr", "add", f"{LAPTOP_ADDRESS}/32", "dev", "lo")
        for site in self.sites:
            number = _SITE_NUMBERS[site]
            login, compute = f"{site}-login", f"{site}-compute"
            self.links.append(Link("laptop", login, number, f"{number}l"))
            self.links.append(Link(login, compute, 10 + number, f"{number}c"))
        for link in self.links:
            a, b = self._veth(link, "a"), self._veth(link, "b")
            _ip("link", "add", a, "netns", self.name(link.a), "type", "veth", "peer", "name", b,
                "netns", self.name(link.b))  # fmt: skip
            for role, dev in ((link.a, a), (link.b, b)):
                ns = self.name(role)
                _ip("-n", ns, "addr", "add", f"{link.address(role)}/24", "dev", dev)
                _ip("-n", ns, "link", "set", dev, "up")
        self._route_logins()

    def _route_logins(self) -> None:
        """Each login's host route to the laptop (the kernel drops it with a link going down)."""
        for site in self.sites:
            login = f"{site}-login"
            via = self.address("laptop", login)
            _ip("-n", self.name(login), "route", "replace", f"{LAPTOP_ADDRESS}/32", "via", via)

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    def __enter__(self) -> Topology:
        reason = netns_available()
        if reason:
            raise RuntimeError(reason)
        sweep_stale()
        if threading.current_thread() is threading.main_thread():
            self._old_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        """Stop tracked processes, kill anything else in our namespaces, delete them."""
        try:
            stop_processes(self.procs, grace_s=5.0)
        finally:
            for name in reversed(self.created):
                _kill_and_delete(name)
            self.created.clear()
            if self._old_sigterm is not None:
                signal.signal(signal.SIGTERM, self._old_sigterm)
                self._old_sigterm = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


@contextlib.contextmanager
def topology(
    sites: Sequence[str] = ("aurora", "crux"), workdir: Path | None = None
) -> Iterator[Topology]:
    """A :class:`Topology` as a plain context manager (see its docstring)."""
    with Topology(sites=sites, workdir=workdir or Path("/tmp")) as topo:
        yield topo
