"""The environment ranks run with: the profile's settings, proxies only when needed."""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlparse

from chia.exchange.settings import ExchangeSettings
from chia.netaddr import is_loopback
from chia.profiles import PROXY_VARIABLES, SystemProfile

__all__ = ["exchange_needs_internet", "forwarded_proxies", "rank_environment"]


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
