"""System profiles: per-machine settings (launcher, paths, environment, exchange)."""

from chia.profiles.loading import (
    expand_placeholders,
    load_profile,
    packaged_profiles,
    read_profile_data,
)
from chia.profiles.model import PROXY_VARIABLES, ExchangeDefaults, LauncherSettings, SystemProfile

__all__ = [
    "PROXY_VARIABLES",
    "ExchangeDefaults",
    "LauncherSettings",
    "SystemProfile",
    "expand_placeholders",
    "load_profile",
    "packaged_profiles",
    "read_profile_data",
]
