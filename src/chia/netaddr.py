"""What an address names: the one place chia decides whether a host is this machine.

The exchange and the dashboard refuse to serve a non-loopback address without a token; the
site environment forwards proxies only for an exchange off this host; cluster files treat
a node on this host as local. All ask these two functions. :func:`free_port` is the one
place a free TCP port is chosen.
"""

from __future__ import annotations

import ipaddress
import socket
import threading

__all__ = ["free_port", "is_local_address", "is_loopback"]

_handed_out: set[tuple[str, int]] = set()
_handed_out_lock = threading.Lock()


def is_loopback(host: str) -> bool:
    """True when ``host`` names only this machine (``localhost``, 127.0.0.0/8, ``::1``).

    Brackets around an IPv6 literal (``[::1]``, as in URLs) are accepted. A name other than
    ``localhost`` is not resolved: it is not loopback.
    """
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local_address(host: str) -> bool:
    """True when ``host`` is loopback or this machine's own host name."""
    return is_loopback(host) or host == socket.gethostname()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago and never handed out before here.

    The kernel may offer a port again once its probe socket is closed, so several ports
    chosen in a row (one Ray node's four agent ports, say) could repeat one another. This
    process remembers every port it handed out and asks again rather than repeat one.
    """
    with _handed_out_lock:
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind((host, 0))
                port = int(sock.getsockname()[1])
            if (host, port) not in _handed_out:
                _handed_out.add((host, port))
                return port
