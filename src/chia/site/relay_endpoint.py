"""The model endpoint behind a site's LLM relay, read from the relay's host file.

``chia relay start`` runs a relay on a site's login node and writes ``<host> <port>``
to the profile's ``relay_host_file`` (on the shared filesystem). A model whose base URL
is the word ``relay`` (``--llm-base-url relay``, or ``"base_url": "relay"`` in a
campaign's ``lm``) is reached through it: each rank reads the host file when it builds
its model, so a relay restarted on another port is found again, and nobody copies a
login node's name and port by hand.

A compute node's proxy variables would send the relay's traffic to the site proxy, which
forwards only to the internet: the relay's host is added to ``no_proxy``/``NO_PROXY``.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from chia.campaign.model import LMSettings
from chia.errors import ChiaUsageError

__all__ = ["RELAY", "read_relay_host", "relay_base_url", "resolve_relay", "uses_relay"]

#: The base URL that means "the relay of this site's login node".
RELAY = "relay"


def uses_relay(lm: LMSettings | None) -> bool:
    """True when ``lm`` asks for its endpoint through the relay."""
    return lm is not None and lm.base_url == RELAY


def read_relay_host(host_file: Path, site: str) -> tuple[str, int]:
    """The relay's ``(host, port)`` from its host file.

    Raises:
        ChiaUsageError: If the file is missing or malformed (the message names the site
            and the command that writes it).
    """
    start = f"run `chia relay start --system {site} --target-port PORT` on the laptop"
    try:
        words = host_file.read_text(encoding="utf-8").split()
    except FileNotFoundError:
        raise ChiaUsageError(
            f"site {site}: the model is reached through the relay, but its host file "
            f"{host_file} does not exist: {start} (it writes the file)"
        ) from None
    except OSError as exc:
        raise ChiaUsageError(
            f"site {site}: cannot read relay host file {host_file}: {exc}"
        ) from None
    if len(words) != 2 or not words[1].isdigit() or not 0 < int(words[1]) < 65536:
        raise ChiaUsageError(
            f"site {site}: relay host file {host_file} should hold '<host> <port>', "
            f"not {' '.join(words)!r}: {start} again"
        )
    return words[0], int(words[1])


def relay_base_url(host_file: Path, site: str) -> str:
    """``http://<host>:<port>/v1``: the OpenAI-compatible endpoint behind the relay."""
    host, port = read_relay_host(host_file, site)
    return f"http://{host}:{port}/v1"


def _exempt_from_proxy(host: str, env: MutableMapping[str, str]) -> None:
    """Add ``host`` to both spellings of ``no_proxy`` (keeping the hosts of either)."""
    names = (env.get("no_proxy", ""), env.get("NO_PROXY", ""))
    hosts = [h.strip() for value in names for h in value.split(",") if h.strip()]
    env["no_proxy"] = env["NO_PROXY"] = ",".join(dict.fromkeys([*hosts, host]))


def resolve_relay(
    lm: LMSettings,
    host_file: str | Path | None,
    site: str,
    env: MutableMapping[str, str] | None = None,
) -> LMSettings:
    """``lm`` with the ``relay`` base URL replaced by the relay's endpoint.

    Settings that do not use the relay are returned unchanged. The relay's host is
    exempted from the proxy in ``env`` (default: this process's environment).

    Raises:
        ChiaUsageError: If the profile names no relay host file, or it cannot be read.
    """
    if not uses_relay(lm):
        return lm
    if not host_file:
        raise ChiaUsageError(
            f"site {site}: the model's base URL is 'relay' but the site's profile has no "
            "relay_host_file: set it (where `chia relay start` writes '<host> <port>')"
        )
    url = relay_base_url(Path(host_file).expanduser(), site)
    host = url.split("//", 1)[1].rsplit(":", 1)[0]
    _exempt_from_proxy(host, os.environ if env is None else env)
    return lm.model_copy(update={"base_url": url})
