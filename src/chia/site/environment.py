"""The environment ranks run with: the profile's settings, proxies only when needed.

The profile's ``venv`` and ``remote_root`` say how the site's ranks run on its machine:
every host process (and each rank's supervisor under ``mpiexec``) is started with
``<venv>/bin/python``, with the venv activated in its environment (``VIRTUAL_ENV``,
``<venv>/bin`` first on ``PATH``, so its ``chia``, ``mpiexec`` and MCP servers are the
ones found), and in ``remote_root`` as working directory (``mpiexec`` passes its own on
to the ranks). Without them: the Python running ``chia spawn-site`` and its directory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from chia.errors import ChiaUsageError
from chia.exchange.settings import ExchangeSettings
from chia.netaddr import is_loopback
from chia.profiles import PROXY_VARIABLES, SystemProfile

__all__ = [
    "SiteRuntime",
    "exchange_needs_internet",
    "exchange_proxy",
    "forwarded_proxies",
    "rank_environment",
    "site_runtime",
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
    its ``venv`` activated (``VIRTUAL_ENV``; ``<venv>/bin`` first on ``PATH``, then
    ``path_entries``) and ``no_proxy`` merged (with the hosts already
    in ``no_proxy`` or ``NO_PROXY``; both are set to the result).
    """
    env = dict(os.environ if base is None else base)
    keep_proxies = exchange_needs_internet(settings)
    for name in profile.unset_env:
        if not (keep_proxies and name in PROXY_VARIABLES):
            env.pop(name, None)
    env.update(profile.env)
    prefix = [*([f"{profile.venv}/bin"] if profile.venv else []), *profile.path_entries]
    if prefix:
        env["PATH"] = os.pathsep.join([*prefix, env.get("PATH", "")])
    if profile.venv:
        env["VIRTUAL_ENV"] = profile.venv
        env.pop("PYTHONHOME", None)
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


@dataclass(frozen=True)
class SiteRuntime:
    """How a site's host processes are started on its machine.

    Attributes:
        python: The interpreter of every host process (and rank supervisor).
        workdir: Their working directory; None keeps spawn-site's.
    """

    python: str = sys.executable
    workdir: Path | None = None


def site_runtime(profile: SystemProfile) -> SiteRuntime:
    """The interpreter and working directory the profile's ``venv`` and ``remote_root`` name.

    Raises:
        ChiaUsageError: If ``venv`` has no ``bin/python`` or ``remote_root`` is not a
            directory here (naming the profile, the field and what to do).
    """
    python = sys.executable
    if profile.venv:
        candidate = Path(profile.venv).expanduser() / "bin" / "python"
        if not os.access(candidate, os.X_OK):
            raise ChiaUsageError(
                f"profile {profile.name}: venv {profile.venv} has no bin/python on this "
                f"machine: create it (python3 -m venv {profile.venv}, then install chia "
                "into it) or remove venv from the profile"
            )
        python = str(candidate)
    workdir = None
    if profile.remote_root:
        workdir = Path(profile.remote_root).expanduser()
        if not workdir.is_dir():
            raise ChiaUsageError(
                f"profile {profile.name}: remote_root {profile.remote_root} is not a "
                "directory on this machine: create it, fix it, or remove remote_root from "
                "the profile"
            )
    return SiteRuntime(python, workdir)
