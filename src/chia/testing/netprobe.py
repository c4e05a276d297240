"""Probe what a network namespace can reach: run as ``python -m chia.testing.netprobe``.

Two probes, each printing one JSON object (``{"ok": bool, "detail": str}``) and exiting 0
when the connection worked, 1 when it did not:

* ``direct HOST PORT``: a plain TCP connect.
* ``proxy PROXY_HOST PROXY_PORT HOST PORT``: an HTTP ``CONNECT HOST:PORT`` through the
  proxy; ``ok`` when the proxy answers 200 (it reached the target for us).

Run inside a namespace with :meth:`chia.testing.netns.Topology.run`; the functions are
usable in-process too.
"""

from __future__ import annotations

import json
import socket
import sys

__all__ = ["connect_direct", "connect_via_proxy", "main", "probe_argv"]


def connect_direct(host: str, port: int, timeout_s: float = 3.0) -> tuple[bool, str]:
    """Try a TCP connect to ``host:port``; return whether it worked and why not."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True, "connected"
    except OSError as exc:
        return False, f"{type(exc).__name__}: {exc}"


def connect_via_proxy(
    proxy_host: str, proxy_port: int, host: str, port: int, timeout_s: float = 5.0
) -> tuple[bool, str]:
    """Ask the HTTP proxy to ``CONNECT host:port``; return whether it answered 200."""
    try:
        with socket.create_connection((proxy_host, proxy_port), timeout=timeout_s) as sock:
            request = f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n"
            sock.sendall(request.encode())
            reply = b""
            while b"\r\n" not in reply:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                reply += chunk
    except OSError as exc:
        return False, f"{type(exc).__name__}: {exc}"
    status = reply.split(b"\r\n", 1)[0].decode(errors="replace")
    parts = status.split()
    return len(parts) >= 2 and parts[1] == "200", status or "proxy closed the connection"


def probe_argv(*args: str | int) -> list[str]:
    """The command line of one probe, e.g. ``probe_argv("direct", host, port)``."""
    return [sys.executable, "-m", "chia.testing.netprobe", *(str(a) for a in args)]


def main(argv: list[str] | None = None) -> int:
    """Entry point (see the module docstring)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 3 and args[0] == "direct":
        ok, detail = connect_direct(args[1], int(args[2]))
    elif len(args) == 5 and args[0] == "proxy":
        ok, detail = connect_via_proxy(args[1], int(args[2]), args[3], int(args[4]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps({"ok": ok, "detail": detail}))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
