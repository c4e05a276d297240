"""A real tinyproxy (Debian ``tinyproxy-bin``) in a login namespace, for its compute node.

It listens only on the login's address facing its compute node, accepts clients of that
link only, and forwards to one host (a whitelist filter on the domain) and, for
``CONNECT``, to the allowed ports only: the HTTP proxy an HPC site's compute nodes see.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from chia.netaddr import free_port
from chia.processes import stop_process
from chia.testing.netns import Topology
from chia.testing.netprobe import probe_argv

__all__ = ["PROXY_PORT", "Proxy", "local_tinyproxy", "proxy_environment", "start_tinyproxy"]

#: The port every login's proxy listens on (one per namespace, so no clash).
PROXY_PORT = 3128


@dataclass
class Proxy:
    """A running tinyproxy: where it listens and where it logs."""

    host: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        """``http://host:port``, the value of the proxy variables."""
        return f"http://{self.host}:{self.port}"

    @property
    def output(self) -> str:
        """Its log so far (each request it forwarded is one line)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def proxy_environment(proxy: Proxy) -> dict[str, str]:
    """The variables a compute node's login shell sets: every request goes to ``proxy``."""
    return {
        "HTTP_PROXY": proxy.url,
        "HTTPS_PROXY": proxy.url,
        "http_proxy": proxy.url,
        "https_proxy": proxy.url,
        "NO_PROXY": "",
        "no_proxy": "",
    }


def _config(host: str, port: int, client_subnet: str, filter_file: Path, ports: list[int]) -> str:
    lines = [
        f"Port {port}",
        f"Listen {host}",
        "Timeout 900",  # longer than an exchange long-poll (60 s by default)
        "MaxClients 200",
        "LogLevel Info",
        "DisableViaHeader Yes",
        f"Allow {client_subnet}",
        f'Filter "{filter_file}"',
        "FilterType ere",
        "FilterDefaultDeny Yes",
        *(f"ConnectPort {p}" for p in ports),
    ]
    return "\n".join(lines) + "\n"


def start_tinyproxy(
    topo: Topology, site: str, *, target: str, ports: list[int], timeout_s: float = 10.0
) -> Proxy:
    """Start tinyproxy in ``<site>-login`` for ``<site>-compute``, forwarding to ``target``.

    Args:
        topo: The open topology (the process is tracked and stopped with it).
        site: The site whose login runs the proxy.
        target: The only host it forwards to (the laptop's address).
        ports: The only ports it CONNECTs to.
        timeout_s: How long to wait for it to listen.

    Raises:
        RuntimeError: If tinyproxy is not installed, or exits / never listens (with its log).
    """
    binary = shutil.which("tinyproxy")
    if binary is None:
        raise RuntimeError("tinyproxy is not installed (bash scripts/system-deps.sh)")
    login, compute = f"{site}-login", f"{site}-compute"
    host = topo.address(login, compute)
    subnet = host.rsplit(".", 1)[0] + ".0/24"
    workdir = topo.workdir / f"tinyproxy-{site}"
    workdir.mkdir(parents=True, exist_ok=True)
    filter_file = workdir / "filter"
    filter_file.write_text("^" + target.replace(".", r"\.") + "$\n")
    conf = workdir / "tinyproxy.conf"
    conf.write_text(_config(host, PROXY_PORT, subnet, filter_file, ports))
    log = workdir / "tinyproxy.log"
    # -d: stay in the foreground, logging to stdout (our log file); no pid or log file of its own.
    proc = topo.popen(login, binary, "-d", "-c", str(conf), log=log)
    proxy = Proxy(host, PROXY_PORT, log, proc)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"tinyproxy in {login} exited {proc.returncode}:\n{proxy.output}")
        probe = topo.run(login, *probe_argv("direct", host, PROXY_PORT), timeout=timeout_s)
        if probe.returncode == 0:
            return proxy
        time.sleep(0.1)
    raise RuntimeError(
        f"tinyproxy in {login} never listened on {host}:{PROXY_PORT}:\n{proxy.output}"
    )


@contextlib.contextmanager
def local_tinyproxy(workdir: Path, timeout_s: float = 10.0) -> Iterator[Proxy]:
    """A tinyproxy on 127.0.0.1 (no namespaces, no filter) on a free port, stopped after.

    Raises:
        RuntimeError: If tinyproxy is not installed, or exits / never listens (with its log).
    """
    binary = shutil.which("tinyproxy")
    if binary is None:
        raise RuntimeError("tinyproxy is not installed (bash scripts/system-deps.sh)")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = workdir / "tinyproxy.conf"
    conf.write_text(f"Port {port}\nListen 127.0.0.1\nTimeout 60\nLogLevel Info\nAllow 127.0.0.1\n")
    log = workdir / "tinyproxy.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-d", "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT
        )
    proxy = Proxy("127.0.0.1", port, log, proc)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"tinyproxy exited {proc.returncode}:\n{proxy.output}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", port), timeout=0.5),
            ):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"tinyproxy never listened on {port}:\n{proxy.output}")
            time.sleep(0.05)
        yield proxy
    finally:
        stop_process(proc)
