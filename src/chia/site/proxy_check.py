"""Before any rank starts: does the HTTP proxy the exchange is reached through answer?

A proxy named by the profile (``env.http_proxy``...) or the shell that is down, or that
accepts connections and never replies, used to cost minutes: each rank's exchange client
timed out, reconnected and was restarted by its supervisor before the site failed with a
message naming neither the proxy nor what to do. ``chia spawn-site`` now asks the proxy
once, with a short timeout (:data:`PROXY_PROBE_TIMEOUT_S`), for the exchange's URL: any
HTTP reply (even an error status) means it answers. No answer is bad input (exit 2) with a
message naming the site, the profile, the proxy and what to change.

Which proxy applies is :func:`chia.site.environment.exchange_proxy` (the same variables
the ranks receive through :func:`chia.site.environment.forwarded_proxies`).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from urllib.parse import urlparse

from chia.errors import ChiaUsageError
from chia.exchange.settings import ExchangeSettings
from chia.profiles import SystemProfile
from chia.site.environment import exchange_proxy

__all__ = ["PROXY_PROBE_TIMEOUT_S", "check_exchange_proxy", "probe_proxy"]

#: How long the probe waits for the proxy to accept and then to answer, each.
PROXY_PROBE_TIMEOUT_S = 5.0


def _request(target_url: str) -> bytes:
    """The one request sent: ``CONNECT`` for an https target, else ``HEAD`` of the URL."""
    target = urlparse(target_url)
    if target.scheme == "https":
        where = f"{target.hostname}:{target.port or 443}"
        return f"CONNECT {where} HTTP/1.1\r\nHost: {where}\r\n\r\n".encode()
    return (
        f"HEAD {target_url} HTTP/1.1\r\nHost: {target.netloc}\r\nConnection: close\r\n\r\n"
    ).encode()


def probe_proxy(
    proxy_url: str, target_url: str, timeout_s: float = PROXY_PROBE_TIMEOUT_S
) -> str | None:
    """Ask the proxy for ``target_url`` once; say what went wrong, or None if it answered.

    Args:
        proxy_url: The proxy, ``http://host:port`` (port 3128 when absent).
        target_url: What to ask it for (the exchange's URL).
        timeout_s: The wait for the connection, and then for the reply's first line.

    Returns:
        None when the proxy replied with an HTTP status line (whatever the status);
        otherwise why not, e.g. ``refused the connection (nothing listens there)``.
    """
    proxy = urlparse(proxy_url if "//" in proxy_url else f"http://{proxy_url}")
    if not proxy.hostname:
        return "is not a proxy URL (expected http://host:port)"
    try:
        port = proxy.port or 3128
    except ValueError:
        return "has an invalid port"
    try:
        sock = socket.create_connection((proxy.hostname, port), timeout=timeout_s)
    except TimeoutError:
        return f"did not accept a connection within {timeout_s:g}s"
    except ConnectionRefusedError:
        return "refused the connection (nothing listens there)"
    except OSError as exc:
        return f"cannot be reached ({exc.strerror or exc})"
    with sock:
        deadline = time.monotonic() + timeout_s
        reply = b""
        try:
            sock.sendall(_request(target_url))
            while b"\n" not in reply:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(1024)
                if not chunk:
                    break
                reply += chunk
        except TimeoutError:
            return f"accepted the connection but did not answer within {timeout_s:g}s"
        except OSError as exc:
            return f"dropped the connection ({exc.strerror or exc})"
    if not reply.startswith(b"HTTP/"):
        return "closed the connection without an HTTP reply"
    return None


def check_exchange_proxy(
    profile: SystemProfile,
    profile_ref: str,
    site: str,
    env: Mapping[str, str],
    settings: ExchangeSettings,
    timeout_s: float = PROXY_PROBE_TIMEOUT_S,
) -> str | None:
    """Probe the proxy the ranks would reach the exchange through, if there is one.

    Args:
        profile: The site's profile (to say whether it set the proxy).
        profile_ref: How the operator named the profile (``--system``).
        site: The site name.
        env: The ranks' environment (:func:`chia.site.environment.rank_environment`).
        settings: The site's exchange.
        timeout_s: Passed to :func:`probe_proxy`.

    Returns:
        The proxy URL that answered, or None when the exchange is reached directly.

    Raises:
        ChiaUsageError: If the proxy does not answer: names the site, the profile, the
            proxy and its variable, and what to do.
    """
    found = exchange_proxy(env, settings)
    if found is None or settings.url is None:
        return None
    name, url = found
    problem = probe_proxy(url, settings.url, timeout_s)
    if problem is None:
        return url
    if name in profile.env:
        origin = f"set by the profile's env.{name}"
        fix = (
            f"fix env.{name} in profile {profile_ref} to a proxy that answers, or remove it "
            "if the exchange is reachable without one"
        )
    else:
        origin = f"from this shell's {name}"
        fix = (
            f"fix {name} (or the profile's env.{name}) to a proxy that answers, or unset it "
            f"(`unset {name}`) if the exchange is reachable without one"
        )
    raise ChiaUsageError(
        f"site {site} (profile {profile_ref}): the HTTP proxy {url} ({origin}) {problem}; "
        f"the exchange {settings.url} is reached through it. Nothing was started: {fix}"
    )
