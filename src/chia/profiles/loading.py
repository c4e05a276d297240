"""Find system profiles and expand their ``${VAR}`` placeholders.

Expansion reads a mapping the caller gives (``os.environ`` by default) and never writes to
the process environment. ``ALCF_SSH_USER`` defaults to ``ALCF_USER``: on ALCF machines the
ssh login can differ from the workspace name used in paths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from chia import assets
from chia.config_files import load_jsonc, parse_model, resolve_config
from chia.errors import ChiaUsageError, ConfigFileError
from chia.profiles.model import SystemProfile

__all__ = ["expand_placeholders", "load_profile", "packaged_profiles", "read_profile_data"]

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_DEFAULTS_FROM = {"ALCF_SSH_USER": "ALCF_USER"}


def packaged_profiles() -> dict[str, Path]:
    """Map each packaged profile name to its JSON file."""
    return {p.stem: p for p in sorted(assets.path("profiles").glob("*.json"))}


def read_profile_data(ref: str | Path) -> tuple[Path, dict[str, Any]]:
    """Return a profile's file and its raw, unexpanded JSON object."""
    path = resolve_config(ref, packaged_profiles(), "profile")
    data = load_jsonc(path)
    if not isinstance(data, dict):
        raise ConfigFileError(path, "a profile file must hold a JSON object")
    return path, data


def expand_placeholders(value: Any, env: Mapping[str, str], where: str) -> Any:
    """Replace every ``${VAR}`` in the strings of ``value`` (recursively) from ``env``.

    Raises:
        ChiaUsageError: Naming the first unset variable and ``where`` it was needed.
    """
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in env:
                return env[name]
            fallback = _DEFAULTS_FROM.get(name)
            if fallback and fallback in env:
                return env[fallback]
            hint = f" (or {fallback})" if fallback else ""
            raise ChiaUsageError(f"{where}: environment variable {name}{hint} is not set")

        return _PLACEHOLDER.sub(substitute, value)
    if isinstance(value, list):
        return [expand_placeholders(item, env, where) for item in value]
    if isinstance(value, dict):
        return {key: expand_placeholders(item, env, where) for key, item in value.items()}
    return value


def load_profile(ref: str | Path, env: Mapping[str, str] | None = None) -> SystemProfile:
    """Load a system profile by packaged name or path, with placeholders expanded.

    Args:
        ref: A packaged profile name (``aurora``) or a path to a profile JSON file.
        env: Values for ``${VAR}`` placeholders; defaults to a snapshot of ``os.environ``.

    Raises:
        ChiaUsageError: For a missing file, bad JSON, an unknown key or an unset variable.
    """
    path, data = read_profile_data(ref)
    expanded = expand_placeholders(data, dict(os.environ) if env is None else env, f"{path}")
    return parse_model(SystemProfile, expanded, str(path))
