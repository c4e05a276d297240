"""One SSH ControlMaster per site: every later ssh, rsync and port forward rides on it.

Login nodes behind a round-robin alias (``aurora.alcf.anl.gov`` -> uan-0001..0010) and
MFA make fresh connections slow and unpredictable; one master per site means one login,
and every command lands on the same login node. The master logs in in the foreground (so
an MFA prompt reaches the terminal), then backgrounds itself (``-f``) in its own session,
where Ctrl-C does not reach it; it is closed with ``-O exit`` on exit. Being detached, it
would outlive a dashboard killed with SIGKILL: a :class:`~chia.reaper.Reaper` given to
the master stops it then.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shlex
import signal
import stat
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from chia.errors import ChiaError
from chia.processes import is_running
from chia.reaper import Reaper

__all__ = ["SshError", "SshMaster", "SshTarget", "control_path", "short_socket_dir"]

DEFAULT_CONTROL_DIR = Path("~/.cache/chia/ssh")
#: sun_path is 108 bytes with its NUL; ssh -M binds "<path>.<16 random chars>" first.
_SOCKET_PATH_MAX = 107 - 17


class SshError(ChiaError):
    """An ssh connection or remote command failed; the message names the site."""


@dataclass(frozen=True)
class SshTarget:
    """Where one site's login node is and how to reach it.

    Attributes:
        site: The site name (used in messages and socket names).
        host: The ssh destination: ``user@host`` or an alias from the ssh config.
        ssh_config: An ``ssh -F`` file; None uses ssh's own (``~/.ssh/config``).
    """

    site: str
    host: str
    ssh_config: Path | None = None

    def options(self) -> list[str]:
        """The ssh options every invocation shares (the config file)."""
        return ["-F", str(self.ssh_config)] if self.ssh_config else []


def control_path(target: SshTarget, control_dir: Path | None = None) -> Path:
    """The ControlMaster socket of a site: ``<control_dir>/<site>-<hash of host>.sock``.

    A Unix socket path holds at most 107 bytes, and ssh first binds a temporary name 17
    bytes longer. When the socket would not fit (a deep ``--control-dir`` or home
    directory), it lives in :func:`short_socket_dir` instead, under a name derived from
    the path it would have had: every process computes the same one, so ``reuse``
    still finds the master.
    """
    folder = (control_dir or DEFAULT_CONTROL_DIR).expanduser()
    digest = hashlib.sha1(f"{target.host}|{target.ssh_config}".encode()).hexdigest()[:10]
    path = folder / f"{target.site}-{digest}.sock"
    if len(str(path).encode()) <= _SOCKET_PATH_MAX:
        return path
    short = short_socket_dir() / (
        f"{target.site[:16]}-{hashlib.sha1(str(path).encode()).hexdigest()[:16]}.sock"
    )
    if len(str(short).encode()) > _SOCKET_PATH_MAX:
        raise SshError(f"control socket path too long ({path}); pass a shorter --control-dir")
    return short


def short_socket_dir() -> Path:
    """``/tmp/chia-ssh-<uid>``: this user's private directory for sockets (mode 0700).

    Raises:
        SshError: If it exists but is not a directory owned by this user and closed to
            everyone else (someone else could then reach the ssh master).
    """
    folder = Path(tempfile.gettempdir()) / f"chia-ssh-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise SshError(
            f"{folder} is not a private directory of this user: remove it, or pass a "
            "shorter --control-dir"
        )
    return folder


def _wait_gone(pid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not is_running(pid):
            return True
        time.sleep(0.02)
    return False


class SshMaster:
    """A ControlMaster connection to one site; use as a context manager.

    Args:
        target: The site's login node.
        control_dir: Where the socket lives (default ``~/.cache/chia/ssh``).
        connect_timeout_s: How long the first login may take (MFA prompts need longer).
        reuse: Attach to a live master at the same socket instead of opening one; an
            attached master is left running on close.
        reaper: Stops the master this object starts if this process dies without
            closing it (e.g. SIGKILL).
    """

    def __init__(
        self,
        target: SshTarget,
        *,
        control_dir: Path | None = None,
        connect_timeout_s: float = 30.0,
        reuse: bool = False,
        reaper: Reaper | None = None,
    ) -> None:
        self.target = target
        self.reaper = reaper
        self.socket = control_path(target, control_dir)
        self.connect_timeout_s = connect_timeout_s
        self.reuse = reuse
        self.owned = False

    def _control(
        self, command: str, *extra: str, timeout_s: float = 10.0
    ) -> subprocess.CompletedProcess[str]:
        argv = ["ssh", *self.target.options(), "-S", str(self.socket), "-O", command, *extra]
        return subprocess.run(
            [*argv, self.target.host], capture_output=True, text=True, timeout=timeout_s
        )

    def alive(self) -> bool:
        """True when a master answers on the socket."""
        return self.socket.exists() and self._control("check").returncode == 0

    def open(self) -> SshMaster:
        """Attach to a live master (``reuse``) or log in and start one.

        Raises:
            SshError: If the login fails or does not finish within the timeout.
        """
        if self.reuse and self.alive():
            return self
        self.socket.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.socket.unlink(missing_ok=True)  # a stale socket from a killed master
        argv = ["ssh", *self.target.options(), "-M", "-S", str(self.socket), "-f", "-N"]
        argv += ["-o", "ControlPersist=no", "-o", "ExitOnForwardFailure=yes"]
        argv += ["-o", "ServerAliveInterval=15", self.target.host]
        # stderr goes to a file: the backgrounded master would hold a pipe open forever.
        with tempfile.TemporaryFile() as errors:
            try:
                result = subprocess.run(argv, stderr=errors, timeout=self.connect_timeout_s)
            except subprocess.TimeoutExpired:
                self.owned = True
                self.close()
                raise SshError(
                    f"{self.target.site}: ssh to {self.target.host} did not connect within "
                    f"{self.connect_timeout_s:g}s"
                ) from None
            errors.seek(0)
            message = errors.read().decode(errors="replace").strip()
        if result.returncode != 0 or not self.alive():
            raise SshError(f"{self.target.site}: ssh to {self.target.host} failed: {message}")
        self.owned = True
        if self.reaper is not None and (pid := self.master_pid()) is not None:
            self.reaper.watch(pid, self.socket)
        return self

    def master_pid(self) -> int | None:
        """The master's process id, as ``ssh -O check`` reports it."""
        found = re.search(r"pid=(\d+)", self._control("check").stderr)
        return int(found.group(1)) if found else None

    def ssh_argv(self) -> list[str]:
        """``ssh`` through this master (no new login), without the destination."""
        argv = ["ssh", *self.target.options(), "-S", str(self.socket)]
        return [*argv, "-o", "ControlMaster=no", "-o", "BatchMode=yes"]

    def rsync_rsh(self) -> str:
        """The ``rsync -e`` value that rides on this master."""
        return shlex.join(self.ssh_argv())

    def run(
        self, *remote_argv: str, timeout_s: float = 60.0, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run a command on the login node (argv quoted for the remote shell).

        Raises:
            SshError: If ``check`` and the command exits non-zero.
        """
        argv = [*self.ssh_argv(), self.target.host, "--", shlex.join(remote_argv)]
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL
        )
        if check and result.returncode != 0:
            raise SshError(
                f"{self.target.site}: `{shlex.join(remote_argv)}` exited {result.returncode}: "
                f"{(result.stderr or result.stdout).strip()}"
            )
        return result

    def forward_remote(self, local_port: int, local_host: str = "127.0.0.1") -> int:
        """Open a reverse tunnel: a free port on the login node's loopback to ``local_port``.

        Returns:
            The port ssh allocated on the login node.
        """
        spec = f"127.0.0.1:0:{local_host}:{local_port}"
        result = self._control("forward", "-R", spec)
        if result.returncode != 0 or not result.stdout.strip().isdigit():
            raise SshError(f"{self.target.site}: reverse tunnel failed: {result.stderr.strip()}")
        return int(result.stdout.strip())

    def cancel_remote(self, local_port: int, local_host: str = "127.0.0.1") -> bool:
        """Close the reverse tunnel :meth:`forward_remote` opened to ``local_port``.

        The master keeps one tunnel per target (a second ``forward_remote`` to the same
        target returns the first one's port), and cancels it by the spec it was opened
        with, port 0.

        Returns:
            True if the master closed it.
        """
        result = self._control("cancel", "-R", f"127.0.0.1:0:{local_host}:{local_port}")
        return result.returncode == 0 and "failed" not in result.stderr

    def close(self) -> None:
        """Exit the master if this object started it; an attached master keeps running."""
        if not self.owned:
            return
        self.owned = False
        pid = self.master_pid() if self.socket.exists() else None
        if pid is not None:
            self._control("exit", timeout_s=5)
            # The master lingers ~1 s saying goodbye to sshd; SIGTERM is as clean and quick.
            for signum in (None, signal.SIGTERM, signal.SIGKILL):
                if signum is not None:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signum)
                if _wait_gone(pid, 0.3 if signum is None else 3.0):
                    break
            if self.reaper is not None:
                self.reaper.forget(pid)
        self.socket.unlink(missing_ok=True)

    def __enter__(self) -> SshMaster:
        return self.open()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
