"""Opening a push client's WebSocket: TLS, the site's HTTP proxy, and several servers.

* ``wss://`` verifies the server against the system's CAs, or against the PEM bundle in
  ``$CHIA_EXCHANGE_CA_FILE`` (a self-signed exchange; the file travels to the ranks as a
  path, never as a secret).
* ``HTTPS_PROXY`` (``wss://``) and ``HTTP_PROXY`` (``ws://``), honouring ``NO_PROXY``,
  like aiohttp's ``trust_env``: the connection goes through an HTTP ``CONNECT`` tunnel
  for both schemes (aiohttp itself tunnels only TLS; a compute node's proxy forwards
  nothing else), ``user:password@`` in the proxy URL as ``Proxy-Authorization``.
* A URL may list several servers over one Redis (``ws://a:1,ws://b:2``): a connection
  tries them in turn, starting with the last one that answered.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import ssl
import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import aiohttp

if TYPE_CHECKING:
    from aiohttp.client_proto import ResponseHandler
    from aiohttp.client_reqrep import ClientRequest
    from aiohttp.tracing import Trace

__all__ = ["CA_FILE_ENV", "client_tls", "connector_for", "env_proxy", "open_tunnel", "split_urls"]

#: PEM bundle a ``wss://`` client trusts instead of the system's CAs.
CA_FILE_ENV = "CHIA_EXCHANGE_CA_FILE"
#: The proxy's answer to CONNECT, at most (status line and headers).
_MAX_PROXY_HEAD = 16 * 1024


def split_urls(url: str) -> list[str]:
    """The servers of a push URL: ``ws://a:1,ws://b:2`` -> ``["ws://a:1", "ws://b:2"]``."""
    return [part.strip().rstrip("/") for part in url.split(",") if part.strip()]


def client_tls(url: str) -> ssl.SSLContext | None:
    """The TLS context of a ``wss://`` URL (``$CHIA_EXCHANGE_CA_FILE`` if set), else None."""
    if not url.startswith("wss://"):
        return None
    return ssl.create_default_context(cafile=os.environ.get(CA_FILE_ENV) or None)


def env_proxy(url: str) -> str | None:
    """The proxy URL the environment gives for ``url`` (None: connect directly)."""
    parts = urlsplit(url)
    proxies = urllib.request.getproxies_environment()
    host = parts.hostname or ""
    # NO_PROXY as urllib reads it (typeshed does not declare this function).
    bypass = getattr(urllib.request, "proxy_bypass_environment")  # noqa: B009
    if host and bypass(host, proxies):
        return None
    return proxies.get("https" if parts.scheme == "wss" else "http") or None


async def open_tunnel(proxy: str, host: str, port: int, timeout_s: float) -> socket.socket:
    """Open a TCP connection to ``host:port`` through an HTTP proxy's ``CONNECT``.

    Returns:
        The connected, non-blocking socket, positioned after the proxy's answer.

    Raises:
        ConnectionError: If the proxy cannot be reached or refuses (names its answer).
    """
    parts = urlsplit(proxy)
    if parts.scheme != "http" or not parts.hostname:
        raise ConnectionError(f"proxy {proxy!r} is not an http:// proxy URL")
    loop = asyncio.get_running_loop()
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
    if parts.username is not None:
        secret = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
        lines.append("Proxy-Authorization: Basic " + base64.b64encode(secret.encode()).decode())
    shown = f"{parts.hostname}:{parts.port or 80}"
    sock: socket.socket | None = None
    try:
        async with asyncio.timeout(timeout_s):
            infos = await loop.getaddrinfo(
                parts.hostname, parts.port or 80, type=socket.SOCK_STREAM
            )
            family, kind, proto, _, address = infos[0]
            sock = socket.socket(family, kind, proto)
            sock.setblocking(False)
            await loop.sock_connect(sock, address)
            await loop.sock_sendall(sock, ("\r\n".join(lines) + "\r\n\r\n").encode())
            head = b""
            while not head.endswith(b"\r\n\r\n"):
                # One byte at a time: nothing past the proxy's answer may be consumed.
                chunk = await loop.sock_recv(sock, 1)
                if not chunk or len(head) > _MAX_PROXY_HEAD:
                    raise ConnectionError(f"proxy {shown} closed the CONNECT to {target}")
                head += chunk
    except (OSError, TimeoutError) as exc:
        if sock is not None:
            sock.close()
        if isinstance(exc, ConnectionError):
            raise
        raise ConnectionError(f"proxy {shown} unreachable for {target}: {exc!r}") from None
    status = head.split(b"\r\n", 1)[0].decode(errors="replace")
    if status.split(" ")[1:2] != ["200"]:
        sock.close()
        raise ConnectionError(f"proxy {shown} refused CONNECT {target}: {status}")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _TunnelConnector(aiohttp.TCPConnector):
    """A connector whose every connection goes through one proxy's CONNECT tunnel."""

    def __init__(self, proxy: str, tls: ssl.SSLContext | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._proxy = proxy
        self._tls = tls

    async def _create_connection(
        self, req: ClientRequest, traces: list[Trace], timeout: aiohttp.ClientTimeout
    ) -> ResponseHandler:
        host, port = req.url.raw_host, req.url.port
        assert host is not None and port is not None
        sock = await open_tunnel(self._proxy, host, port, timeout.sock_connect or 30.0)
        # aiohttp's own protocol factory over our socket (TLS inside the tunnel for wss).
        _, proto = await self._loop.create_connection(
            self._factory, sock=sock, ssl=self._tls, server_hostname=host if self._tls else None
        )
        return proto


def connector_for(url: str, tls: ssl.SSLContext | None) -> aiohttp.BaseConnector | None:
    """A tunnelling connector when the environment names a proxy for ``url``, else None."""
    proxy = env_proxy(url)
    return _TunnelConnector(proxy, tls) if proxy else None
