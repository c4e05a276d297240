"""``ChiaTool``: an MCP tool server (FastMCP, streamable HTTP, uvicorn) on a Ray actor.

A subclass registers tools on ``self.mcp`` in ``setup()`` (or in its own ``__init__``,
ending with ``super().__post_init__()``). Construction then ships the tool object to a
Ray actor placed by ``task_options`` (``num_cpus=0`` unless given), which serves it on the
first free port from a configurable base. The endpoint is
``http://{hostname}:{port}/{name}/mcp``; ``stop()`` shuts uvicorn down and kills the actor.

Environment (read where noted):

* ``CHIA_TOOL_HOST`` (driver): the address the server binds on its node; default the
  node's Ray IP address, so the tool is reachable across the cluster.
* ``CHIA_TOOL_BASE_PORT`` (driver): the first port scanned (default 8000).
* ``CHIA_TOOL_ADVERTISE_HOST`` (server node): the host written into the tool's URL.
* ``CHIA_TOOL_RELAY_HOST`` (client node): see :func:`resolve_tool_url`.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import ray

from chia.base.tools._mcp import ToolMCP
from chia.base.tools._server import BackgroundServer, bind_free_port
from chia.base.tools._shell import kill_running_groups
from chia.names import check_name

__all__ = ["ChiaTool", "ToolInfo", "resolve_tool_url", "start_router"]

log = logging.getLogger(__name__)

HOST_ENV = "CHIA_TOOL_HOST"
BASE_PORT_ENV = "CHIA_TOOL_BASE_PORT"
ADVERTISE_HOST_ENV = "CHIA_TOOL_ADVERTISE_HOST"
RELAY_HOST_ENV = "CHIA_TOOL_RELAY_HOST"
DEFAULT_BASE_PORT = 8000
_WILDCARDS = ("0.0.0.0", "::", "")
_PER_REQUEST_LOGGERS = ("mcp", "fastmcp", "uvicorn", "httpx", "sse_starlette")


@dataclass(frozen=True)
class ToolInfo:
    """Where a tool server runs.

    Attributes:
        name: The tool's name (also its URL path prefix).
        port: The port its server listens on.
        node_id: The Ray node hosting the server actor.
    """

    name: str
    port: int
    node_id: str


def resolve_tool_url(url: str) -> str:
    """Rewrite a tool URL so it is routable from the current node.

    On reverse-tunnelled workers both ``CHIA_TOOL_ADVERTISE_HOST`` (the head's real
    address, which tool URLs advertise) and ``CHIA_TOOL_RELAY_HOST`` (the local end of the
    relay) are set: a URL whose host is the advertised one gets the relay host instead.
    Anywhere else, or for any other host, the URL is returned unchanged.

    Args:
        url: A tool URL (``http://host:port/name/mcp``).

    Returns:
        The URL to connect to from this node.
    """
    advertised = os.environ.get(ADVERTISE_HOST_ENV)
    relay = os.environ.get(RELAY_HOST_ENV)
    if not advertised or not relay:
        return url
    parts = urlsplit(url)
    if parts.hostname != advertised:
        return url
    netloc = relay if parts.port is None else f"{relay}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def start_router(
    tool: ChiaTool, ip_address: str, base_port: int = DEFAULT_BASE_PORT, max_tries: int = 100
) -> int:
    """Serve ``tool`` from this process with a local uvicorn server in a background thread.

    A plain uvicorn server per tool (rather than one shared ingress) lets every node host
    its own independent tool servers. Ports in use (another tool, a host-networked
    container) are skipped.

    Args:
        tool: The tool whose ``mcp`` server is served at ``/{tool.name}/mcp``.
        ip_address: The address to bind.
        base_port: The first port tried.
        max_tries: How many consecutive ports to try.

    Returns:
        The port that was bound.

    Raises:
        OSError: If no port in the range could be bound.
    """
    app = tool.mcp.http_app(path=f"/{tool.name}/mcp")
    server = BackgroundServer(app, bind_free_port(ip_address, base_port, max_tries))
    server.start()
    tool._router = server
    return server.port


class _ToolServerActor:
    """The Ray actor hosting one tool's server (created by ``ChiaTool.__post_init__``)."""

    def __init__(self, logging_level: int) -> None:
        logging.getLogger("chia.base.tools").setLevel(logging_level)
        # Ray workers log INFO to files; the MCP stack logs a line per request at INFO,
        # which costs more than the call itself. Keep it to warnings and errors.
        for noisy in _PER_REQUEST_LOGGERS:
            logging.getLogger(noisy).setLevel(max(logging_level, logging.WARNING))
        self._tool: ChiaTool | None = None

    def start(self, tool: ChiaTool, host: str | None, base_port: int, max_tries: int) -> Any:
        node_ip: str = ray.util.get_node_ip_address()  # type: ignore[no-untyped-call]
        bind = host or node_ip
        port = start_router(tool, bind, base_port, max_tries)
        self._tool = tool
        advertise = os.environ.get(ADVERTISE_HOST_ENV) or (node_ip if bind in _WILDCARDS else bind)
        node_id = ray.get_runtime_context().get_node_id()
        log.debug("tool %s serving on %s:%d (node %s)", tool.name, bind, port, node_id)
        return {"host": advertise, "port": port, "node_id": node_id, "pid": os.getpid()}

    def stop(self) -> None:
        # Commands still running (a long AsyncBashTool job) must not outlive the server.
        kill_running_groups()
        if self._tool is not None and self._tool._router is not None:
            self._tool._router.stop()
            self._tool._router = None


_actor_class: Any = None


def _wait_dead(actor: Any, timeout_s: float = 10.0) -> None:
    """Return once a killed actor is gone (``ray.kill`` only sends the request)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            ray.get(actor.__ray_ready__.remote(), timeout=1)
        except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
            return
        time.sleep(0.05)


def _server_actor_class() -> Any:
    global _actor_class
    if _actor_class is None:
        _actor_class = ray.remote(_ToolServerActor)
    return _actor_class


class ChiaTool:
    """Base class for MCP tool servers deployed onto Ray workers.

    Subclasses define ``setup()``, which registers tools with
    ``self.mcp.add_tool(self.method, name=...)``; each tool's docstring is the
    description the model sees. Alternatively a subclass writes ``__init__``, calls
    ``super().__init__(name, task_options=...)``, registers its tools and ends with
    ``super().__post_init__()``, which starts the server.

    Example::

        class EchoTool(ChiaTool):
            def setup(self, prefix: str = "") -> None:
                self.prefix = prefix
                self.mcp.add_tool(self.echo, name=f"{self.name}_echo")

            def echo(self, text: str) -> str:
                \"\"\"Return the text, prefixed.\"\"\"
                return self.prefix + text

        tool = EchoTool("echo", prefix="> ")
        tool.url  # http://{hostname}:{port}/echo/mcp
        tool.stop()

    Args:
        name: The tool's name: the URL path prefix and the server name.
        task_options: Ray actor options placing the server (``resources``,
            ``scheduling_strategy``, ``num_cpus``...); ``num_cpus`` is 0 unless given.
        logging_level: Log level of ``chia.base.tools`` in the server actor.

    Attributes:
        name: The tool's name.
        mcp: The FastMCP server tools are registered on.
        hostname: The host in the tool's URL (set once the server runs).
        port: The server's port (set once the server runs).
        node_id: The Ray node hosting the server (set once the server runs).
    """

    #: Seconds to wait for the server actor to be placed and serving.
    start_timeout_s: ClassVar[float] = 120.0
    #: Consecutive ports tried from the base port.
    max_port_tries: ClassVar[int] = 100

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "setup" in cls.__dict__ and "__init__" not in cls.__dict__:
            cls.__init__ = _generated_init  # type: ignore[method-assign]

    def __init__(
        self,
        name: str,
        task_options: dict[str, Any] | None = None,
        logging_level: int = logging.DEBUG,
    ) -> None:
        self.name = check_name(name, "tool name")
        self.task_options = dict(task_options or {})
        self.logging_level = logging_level
        self.mcp = ToolMCP(self.name)
        self.hostname: str | None = None
        self.port: int | None = None
        self.node_id: str | None = None
        self._actor: Any = None
        self._router: BackgroundServer | None = None

    def setup(self, *args: Any, **kwargs: Any) -> None:
        """Register tools and set instance state (override instead of writing ``__init__``).

        A subclass that defines ``setup`` and no ``__init__`` gets an ``__init__`` that
        runs the base ``__init__`` (so ``self.name`` and ``self.mcp`` exist), then
        ``setup`` with the remaining constructor arguments, then :meth:`__post_init__`.
        Multi-level subclasses chain with ``super().setup(...)``.
        """

    def __post_init__(self) -> None:
        """Start the server: place the actor, ship this tool to it, wait until it serves.

        Raises:
            RuntimeError: If the server could not start (the actor is killed).
        """
        options = {"num_cpus": 0, **self.task_options}
        host = os.environ.get(HOST_ENV) or None
        base_port = int(os.environ.get(BASE_PORT_ENV, DEFAULT_BASE_PORT))
        self._actor = _server_actor_class().options(**options).remote(self.logging_level)
        try:
            ref = self._actor.start.remote(self, host, base_port, self.max_port_tries)
            info = ray.get(ref, timeout=self.start_timeout_s)
        except Exception as exc:
            ray.kill(self._actor)
            self._actor = None
            raise RuntimeError(f"tool {self.name!r}: server did not start: {exc}") from exc
        self.hostname, self.port, self.node_id = info["host"], info["port"], info["node_id"]
        self.server_pid: int = info["pid"]

    @property
    def url(self) -> str:
        """The MCP endpoint, ``http://{hostname}:{port}/{name}/mcp``."""
        if self.port is None:
            raise RuntimeError(f"tool {self.name!r} is not serving")
        return f"http://{self.hostname}:{self.port}/{self.name}/mcp"

    @property
    def info(self) -> ToolInfo:
        """Name, port and node of the running server."""
        if self.port is None or self.node_id is None:
            raise RuntimeError(f"tool {self.name!r} is not serving")
        return ToolInfo(self.name, self.port, self.node_id)

    @property
    def running(self) -> bool:
        """True between a successful start and :meth:`stop`."""
        return self._actor is not None

    def stop(self) -> None:
        """Shut uvicorn down in the actor, then kill the actor. Idempotent."""
        actor, self._actor = self._actor, None
        if actor is None:
            return
        try:
            ray.get(actor.stop.remote(), timeout=30)
        except Exception as exc:  # the actor may already be gone; kill it regardless
            log.debug("tool %s: stop failed (%s); killing the actor", self.name, exc)
        ray.kill(actor)
        _wait_dead(actor)
        self.port = None

    def __enter__(self) -> ChiaTool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_router"] = None
        return state

    def __repr__(self) -> str:
        # Also called while unpickling (FastMCP names a bound method), before state is set.
        name = getattr(self, "name", "?")
        where = self.url if getattr(self, "port", None) is not None else "not serving"
        return f"<{type(self).__name__} {name} {where}>"


def _generated_init(
    self: ChiaTool,
    name: str,
    *args: Any,
    task_options: dict[str, Any] | None = None,
    logging_level: int = logging.DEBUG,
    **kwargs: Any,
) -> None:
    """``__init__`` given to a subclass that defines only ``setup`` (see ``setup``)."""
    base_init = next(
        klass.__dict__["__init__"]
        for klass in type(self).__mro__
        if "__init__" in klass.__dict__ and klass.__dict__["__init__"] is not _generated_init
    )
    base_init(self, name, task_options=task_options, logging_level=logging_level)
    self.setup(*args, **kwargs)
    self.__post_init__()
