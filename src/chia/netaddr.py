"""What an address names: the one place chia decides whether a host is this machine.

The exchange and the dashboard refuse to serve a non-loopback address without a token; the
site environment forwards proxies only for an exchange off this host; cluster files treat
a node on this host as local. All ask these two functions.
"""

from __future__ import annotations

import ipaddress
import socket

__all__ = ["is_local_address", "is_loopback"]


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
