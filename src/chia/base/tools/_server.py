"""Serving one MCP app with uvicorn from a background thread, on a port found by scanning.

The socket is bound here and handed to uvicorn, so the port chosen is the port served
(no window between "looks free" and "bound" for another process to take it).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import threading
import time
from typing import Any

import uvicorn

__all__ = ["BackgroundServer", "bind_free_port"]

log = logging.getLogger(__name__)

_START_TIMEOUT_S = 30.0
_GRACEFUL_SHUTDOWN_S = 2


def bind_free_port(host: str, base_port: int, max_tries: int) -> socket.socket:
    """Bind a listening TCP socket on the first free port in ``[base, base + max_tries)``.

    Args:
        host: The address to bind.
        base_port: The first port tried.
        max_tries: How many consecutive ports to try.

    Returns:
        The bound, listening socket.

    Raises:
        OSError: If none of the ports could be bound (the message names the range).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    for port in range(base_port, base_port + max_tries):
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen(2048)
        except OSError as exc:
            sock.close()
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                continue
            raise
        sock.set_inheritable(True)
        return sock
    raise OSError(
        errno.EADDRINUSE,
        f"no free port on {host} in {base_port}..{base_port + max_tries - 1}",
    )


class BackgroundServer:
    """A uvicorn server for one ASGI app, running in a daemon thread of this process.

    Args:
        app: The ASGI application (its lifespan is run by uvicorn).
        sock: The listening socket to serve on (see :func:`bind_free_port`).
        log_level: uvicorn's log level name.
    """

    def __init__(self, app: Any, sock: socket.socket, log_level: str = "warning") -> None:
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            log_level=log_level,
            lifespan="on",
            access_log=False,
            timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_S,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name=f"mcp-{self.port}", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self._server.serve(sockets=[self.sock]))
        except BaseException as exc:  # reported by start(); the thread must not die silently
            self._error = exc
            log.exception("MCP server on port %d failed", self.port)

    def start(self) -> None:
        """Start serving and return once uvicorn accepts connections.

        Raises:
            RuntimeError: If the server failed or did not start within 30 s.
        """
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise RuntimeError(f"MCP server on port {self.port} failed: {self._error!r}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"MCP server on port {self.port} did not start in time")
            time.sleep(0.005)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit, wait for the thread, and close the socket."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout)
        self.sock.close()

    @property
    def running(self) -> bool:
        """True while the serving thread is alive."""
        return self._thread.is_alive()
