"""The environment ranks run with: the profile's settings, proxies only when needed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlparse

from chia.exchange.settings import ExchangeSettings
from chia.netaddr import is_loopback
from chia.profiles import PROXY_VARIABLES, SystemProfile

__all__ = [
    "exchange_needs_internet",
    "exchange_proxy",
    "forwarded_proxies",
    "rank_environment",
]


def exchange_needs_internet(settings: ExchangeSettings) -> bool:
    """True when the exchange is an HTTP server off this host (e.g. the hosted one)."""
    if settings.kind != "http" or not settings.url:
        return False
    host = urlparse(settings.url).hostname or ""
    return not is_loopback(host)


def rank_environment(
    profile: SystemProfile, settings: ExchangeSettings, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the environment for a site's ranks.

    The profile's ``unset_env`` is removed (proxies are kept when the exchange needs the
    internet: stripping them is what broke HTTP exchanges on Aurora), its ``env`` set,
    ``path_entries`` prepended to ``PATH`` and ``no_proxy`` merged (with the hosts already
    in ``no_proxy`` or ``NO_PROXY``; both are set to the result).
    """
    env = dict(os.environ if base is None else base)
    keep_proxies = exchange_needs_internet(settings)
    for name in profile.unset_env:
        if not (keep_proxies and name in PROXY_VARIABLES):
            env.pop(name, None)
    env.update(profile.env)
    if profile.path_entries:
        env["PATH"] = os.pathsep.join([*profile.path_entries, env.get("PATH", "")])
    if profile.no_proxy:
        # Both spellings count: a site that sets only NO_PROXY must not lose its hosts.
        names = (env.get("no_proxy", ""), env.get("NO_PROXY", ""))
        current = [h.strip() for value in names for h in value.split(",") if h.strip()]
        merged = ",".join(dict.fromkeys([*current, *profile.no_proxy]))
        env["no_proxy"] = env["NO_PROXY"] = merged
    return env


def forwarded_proxies(env: Mapping[str, str], settings: ExchangeSettings) -> dict[str, str]:
    """Proxy variables to pass explicitly to every rank (``mpiexec -genv``), if needed."""
    if not exchange_needs_internet(settings):
        return {}
    return {name: env[name] for name in PROXY_VARIABLES if env.get(name)}


def exchange_proxy(env: Mapping[str, str], settings: ExchangeSettings) -> tuple[str, str] | None:
    """The proxy the ranks' exchange client will go through, as ``(variable, url)``.

    Only for an exchange that needs the internet (the proxies :func:`forwarded_proxies`
    passes on). The variable is chosen as Python's ``urllib`` (and aiohttp's
    ``trust_env``) does: ``http_proxy`` for an ``http://`` exchange, ``https_proxy`` for
    ``https://``, the lowercase spelling before the uppercase one; a host listed in
    ``no_proxy``/``NO_PROXY`` goes direct.

    Returns:
        None when the exchange is reached directly.
    """
    proxies = forwarded_proxies(env, settings)
    if not proxies or settings.url is None:
        return None
    target = urlparse(settings.url)
    bypass = proxies.get("no_proxy") or proxies.get("NO_PROXY") or ""
    if _bypassed(target.hostname or "", bypass):
        return None
    scheme = target.scheme.lower()
    for name in (f"{scheme}_proxy", f"{scheme.upper()}_PROXY"):
        if proxies.get(name):
            return name, proxies[name]
    return None


def _bypassed(host: str, no_proxy: str) -> bool:
    """True if ``no_proxy`` exempts ``host`` (as ``urllib``: ``*``, a name or a suffix)."""
    host = host.lower()
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        name = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry
        name = name.lstrip(".")
        if entry == "*" or (name and (host == name or host.endswith("." + name))):
            return True
    return False
