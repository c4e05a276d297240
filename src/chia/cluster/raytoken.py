"""Ray token authentication for a cluster: one token, copied to every machine.

Ray 2.60 turns token authentication on for a head when a token exists on its machine;
every node and client must then present it. ``chia up`` resolves the operator's token
(``$RAY_AUTH_TOKEN``, ``$RAY_AUTH_TOKEN_PATH``, ``~/.ray/auth_token``, else a new one),
writes it (mode 0600, through stdin, never argv) next to each node's temp dir, and starts
every node with ``RAY_AUTH_MODE`` and ``RAY_AUTH_TOKEN_PATH`` set. The token is a secret:
it is never printed, logged or written to a run directory.
"""

from __future__ import annotations

import os
import secrets
import shlex
from pathlib import Path

from chia.cluster.config import ClusterConfig

__all__ = ["client_env", "install_script", "local_token", "node_env", "token_path"]


def token_path(config: ClusterConfig) -> str:
    """Where each machine keeps the cluster's token."""
    return f"{config.provider.temp_root}/{config.cluster_name}/auth_token"


def node_env(config: ClusterConfig) -> dict[str, str]:
    """Environment of every Ray node of the cluster."""
    if config.provider.ray_auth == "disabled":
        return {"RAY_AUTH_MODE": "disabled"}
    return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": token_path(config)}


def local_token(config: ClusterConfig, store: Path) -> str | None:
    """The token to use (None when auth is disabled); a new one is kept in ``store``."""
    if config.provider.ray_auth == "disabled":
        return None
    if os.environ.get("RAY_AUTH_TOKEN"):
        return os.environ["RAY_AUTH_TOKEN"].strip()
    for candidate in (os.environ.get("RAY_AUTH_TOKEN_PATH"), Path.home() / ".ray" / "auth_token"):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text(encoding="utf-8").strip()
    if store.is_file():
        return store.read_text(encoding="utf-8").strip()
    token = secrets.token_hex(32)
    store.parent.mkdir(parents=True, exist_ok=True)
    store.touch(mode=0o600)
    store.write_text(token, encoding="utf-8")
    return token


def install_script(path: str) -> str:
    """Shell script that stores its stdin as the token file (mode 0600)."""
    parent = shlex.quote(str(Path(path).parent))
    return f"umask 077 && mkdir -p {parent} && cat > {shlex.quote(path)}"


def client_env(config: ClusterConfig, address: str, local_copy: Path | None) -> dict[str, str]:
    """Environment for a driver or Ray CLI on the operator's machine."""
    env = {"RAY_ADDRESS": address, "RAY_AUTH_MODE": config.provider.ray_auth}
    if local_copy is not None:
        env["RAY_AUTH_TOKEN_PATH"] = str(local_copy)
    return env
