"""Which launcher a site's ``launcher`` kind names: one table, ``{kind: factory}``.

``chia.site.launchers`` holds the base class and the process launchers, and
``chia.site.ray_launcher`` the Ray one; neither imports the other's module for
construction, so the table lives here, above both.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import get_args

from chia.profiles import SystemProfile
from chia.site.environment import site_runtime
from chia.site.launch import LauncherKind, SiteLaunch
from chia.site.launchers import Launcher, LocalLauncher, MpiexecLauncher
from chia.site.ray_launcher import RayLauncher

__all__ = ["LAUNCHERS", "LauncherFactory", "make_launcher"]

LauncherFactory = Callable[[SiteLaunch, SystemProfile, Mapping[str, str]], Launcher]
"""Builds a launcher from the launch, the site's profile and the ranks' environment."""

LAUNCHERS: dict[LauncherKind, LauncherFactory] = {
    "local": lambda launch, profile, env: LocalLauncher(launch, env, site_runtime(profile)),
    "mpiexec": lambda launch, profile, env: MpiexecLauncher(
        launch, env, profile, site_runtime(profile)
    ),
    "ray": lambda launch, profile, env: RayLauncher(launch, env, site_runtime(profile)),
}
assert set(LAUNCHERS) == set(get_args(LauncherKind)), "a launcher kind has no factory"


def make_launcher(launch: SiteLaunch, profile: SystemProfile, env: Mapping[str, str]) -> Launcher:
    """Build the launcher the launch names.

    The processes run with the profile's ``venv`` and ``remote_root``
    (:func:`chia.site.environment.site_runtime`).

    Raises:
        ChiaUsageError: If the launcher cannot run this launch (e.g. ``ray`` without a
            Ray address), or the profile's ``venv`` or ``remote_root`` is not there.
    """
    return LAUNCHERS[launch.launcher](launch, profile, env)
