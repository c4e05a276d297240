"""Real services on free loopback ports, as context managers (usable without pytest).

A :class:`RedisServer` can be killed and started again on the same port with the same
data directory, so tests can take the exchange away and bring it back. With
``appendonly=True`` its data survives that: Redis replays its append-only file (AOF) on
start. The default ``appendfsync="always"`` fsyncs the AOF before Redis answers a write,
so a write a client saw acknowledged survives even a SIGKILL of the server. With
``"everysec"`` a SIGKILL can lose about the last second of writes (a SIGTERM loses none:
Redis flushes the AOF on a clean shutdown); among them may be the ``active:<uid>`` key of
an agent that registered just before, which Academy's Redis transport then treats as a
deleted mailbox. Tests of "nothing acknowledged is lost" therefore run with ``always``.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from chia.exchange.server import ExchangeServer, ServerBackend
from chia.netaddr import free_port
from chia.processes import stop_process

__all__ = ["AppendFsync", "RedisServer", "http_exchange", "redis_server"]

#: Redis ``appendfsync`` policies the test helpers support.
AppendFsync = Literal["always", "everysec"]


def _redis_answers(host: str, port: int) -> bool:
    """True when the server answers PING (not while it is still loading its AOF)."""
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """A ``redis-server`` child on a fixed port that can be stopped and started again.

    Create it through :func:`redis_server`, which picks a free port and a temp data dir.

    Args:
        host: Address to bind.
        port: Port to bind; kept across restarts.
        workdir: Data dir (AOF, ``redis.log``); kept across restarts.
        appendonly: Persist every write to an append-only file, replayed on start.
        appendfsync: When the AOF is fsynced (see the module docstring).
        start_timeout_s: How long :meth:`start` waits for the server to answer PING.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        workdir: Path,
        appendonly: bool = False,
        appendfsync: AppendFsync = "always",
        start_timeout_s: float = 10.0,
    ) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
        self.host = host
        self.port = port
        self.workdir = workdir
        self.appendonly = appendonly
        self.appendfsync = appendfsync
        self._binary = binary
        self._start_timeout_s = start_timeout_s
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        """Process id of the running server (-1 while it is stopped)."""
        return self._proc.pid if self._proc is not None else -1

    @property
    def running(self) -> bool:
        """True while the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    def url(self, db: int = 0) -> str:
        """``redis://host:port/db``."""
        return f"redis://{self.host}:{self.port}/{db}"

    def _argv(self) -> list[str]:
        persistence = ["--appendonly", "yes" if self.appendonly else "no"]
        if self.appendonly:
            persistence += ["--appendfsync", self.appendfsync]
        return [
            self._binary,
            "--port",
            str(self.port),
            "--bind",
            self.host,
            "--save",
            "",
            *persistence,
            "--dir",
            str(self.workdir),
            "--daemonize",
            "no",
            "--protected-mode",
            "no",
            "--logfile",
            str(self.workdir / "redis.log"),
        ]

    def start(self) -> None:
        """Start the server (again) and wait until it answers PING (its AOF loaded).

        Raises:
            RuntimeError: If it exits or stays silent past the start timeout (e.g. the
                port was taken meanwhile); it is stopped then.
        """
        if self.running:
            return
        self._proc = subprocess.Popen(
            self._argv(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + self._start_timeout_s
        while self._proc.poll() is None and time.monotonic() < deadline:
            if _redis_answers(self.host, self.port):
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(
            f"redis-server did not start on {self.host}:{self.port}; "
            f"see {self.workdir / 'redis.log'}"
        )

    def kill(self, signum: int = signal.SIGKILL) -> None:
        """Take the server away with ``signum`` (SIGKILL by default) and reap it.

        A SIGTERM lets Redis flush its AOF and exit cleanly; a SIGKILL does not. A server
        that ignores ``signum`` is SIGKILLed after 10 s.
        """
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_process(proc, grace_s=10.0, signum=signum)

    def stop(self, grace_s: float = 5.0) -> None:
        """Stop the server: SIGTERM, then SIGKILL after ``grace_s``. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is not None:
            stop_process(proc, grace_s)

    def restart(self, signum: int = signal.SIGKILL, down_s: float = 0.0) -> None:
        """Kill the server with ``signum``, stay down ``down_s`` seconds, start it again.

        The new server binds the same port and reads the same data dir.
        """
        self.kill(signum)
        if down_s > 0:
            time.sleep(down_s)
        self.start()


@contextlib.contextmanager
def redis_server(
    *,
    host: str = "127.0.0.1",
    start_timeout_s: float = 10.0,
    attempts: int = 3,
    appendonly: bool = False,
    appendfsync: AppendFsync = "always",
) -> Iterator[RedisServer]:
    """Run a throwaway ``redis-server`` on a free port (no persistence by default).

    Args:
        host: Address to bind.
        start_timeout_s: How long to wait for it to answer PING.
        attempts: Retries with a new port if the chosen one was taken meanwhile.
        appendonly: Keep data across :meth:`RedisServer.restart` (an AOF in the data dir).
        appendfsync: AOF fsync policy (see the module docstring for the choice).

    Yields:
        The running server; it is stopped (and its temp dir removed) on exit.

    Raises:
        RuntimeError: If ``redis-server`` is not installed or never starts.
    """
    with tempfile.TemporaryDirectory(prefix="chia-redis-") as tmp:
        workdir = Path(tmp)
        error: RuntimeError | None = None
        for _ in range(attempts):
            server = RedisServer(
                host=host,
                port=free_port(host),
                workdir=workdir,
                appendonly=appendonly,
                appendfsync=appendfsync,
                start_timeout_s=start_timeout_s,
            )
            try:
                server.start()
            except RuntimeError as exc:
                error = exc
                continue
            try:
                yield server
            finally:
                server.stop()
            return
        raise error or RuntimeError("redis-server did not start")


@contextlib.contextmanager
def http_exchange(
    *,
    backend: ServerBackend = "memory",
    redis_url: str | None = None,
    token: str | None = None,
    port: int = 0,
) -> Iterator[ExchangeServer]:
    """Run a self-hosted Academy HTTP exchange on a loopback port.

    Args:
        backend: ``memory`` or ``redis`` (then give ``redis_url``).
        redis_url: ``redis://host:port/db`` of the redis backend.
        token: Shared token the server demands (``None``: no check).
        port: Port to bind; 0 picks a free one. Give a fixed (free) port to restart the
            server on the same address with ``server.stop(); server.start()``.

    Yields:
        The running server (``.url``, ``.settings()``); stopped on exit.
    """
    with ExchangeServer(
        backend=backend, redis_url=redis_url, token=token or "", port=port
    ) as server:
        yield server
