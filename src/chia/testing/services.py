"""Real services on free loopback ports, as context managers (usable without pytest)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from chia.exchange.server import ExchangeServer, ServerBackend
from chia.processes import stop_process

__all__ = ["RedisServer", "free_port", "http_exchange", "redis_server"]


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that was free on ``host`` a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class RedisServer:
    """A running redis-server: where it listens and its process id."""

    host: str
    port: int
    pid: int
    workdir: Path

    def url(self, db: int = 0) -> str:
        """``redis://host:port/db``."""
        return f"redis://{self.host}:{self.port}/{db}"


def _redis_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


_stop = stop_process


@contextlib.contextmanager
def redis_server(
    *, host: str = "127.0.0.1", start_timeout_s: float = 10.0, attempts: int = 3
) -> Iterator[RedisServer]:
    """Run a throwaway ``redis-server`` (no persistence) on a free port.

    Args:
        host: Address to bind.
        start_timeout_s: How long to wait for it to answer PING.
        attempts: Retries with a new port if the chosen one was taken meanwhile.

    Yields:
        The running server; it is stopped (and its temp dir removed) on exit.

    Raises:
        RuntimeError: If ``redis-server`` is not installed or never starts.
    """
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (apt-get install -y redis-server)")
    with tempfile.TemporaryDirectory(prefix="chia-redis-") as tmp:
        workdir = Path(tmp)
        for _ in range(attempts):
            port = free_port(host)
            argv = [
                binary,
                "--port",
                str(port),
                "--bind",
                host,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
                "--daemonize",
                "no",
                "--protected-mode",
                "no",
                "--logfile",
                str(workdir / "redis.log"),
            ]
            proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            deadline = time.monotonic() + start_timeout_s
            while proc.poll() is None and time.monotonic() < deadline:
                if _redis_answers(host, port):
                    break
                time.sleep(0.02)
            if proc.poll() is None and _redis_answers(host, port):
                try:
                    yield RedisServer(host=host, port=port, pid=proc.pid, workdir=workdir)
                finally:
                    _stop(proc)
                return
            _stop(proc)
        raise RuntimeError(f"redis-server did not start; see {workdir / 'redis.log'}")


@contextlib.contextmanager
def http_exchange(
    *,
    backend: ServerBackend = "memory",
    redis_url: str | None = None,
    token: str | None = None,
) -> Iterator[ExchangeServer]:
    """Run a self-hosted Academy HTTP exchange on a free loopback port.

    Args:
        backend: ``memory`` or ``redis`` (then give ``redis_url``).
        redis_url: ``redis://host:port/db`` of the redis backend.
        token: Shared token the server demands (``None``: no check).

    Yields:
        The running server (``.url``, ``.settings()``); stopped on exit.
    """
    with ExchangeServer(backend=backend, redis_url=redis_url, token=token or "") as server:
        yield server
