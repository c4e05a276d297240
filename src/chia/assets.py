"""Find the folders shipped with chia: campaigns, profiles, relay and dashboard.

In a source checkout they sit at the repository root; in an installed wheel they are
force-included under ``chia/_assets/``. :func:`path` is the one way to find them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

__all__ = ["ASSET_NAMES", "AssetName", "path"]

AssetName = Literal["campaigns", "profiles", "relay", "dashboard"]
ASSET_NAMES: tuple[AssetName, ...] = ("campaigns", "profiles", "relay", "dashboard")

_PACKAGE_DIR = Path(__file__).resolve().parent


def path(name: AssetName) -> Path:
    """Return the directory of a shipped asset folder.

    Args:
        name: One of ``ASSET_NAMES``.

    Returns:
        The folder inside the installed wheel, or in the source checkout.

    Raises:
        ValueError: If ``name`` is not an asset folder.
        FileNotFoundError: If neither location holds it (a broken install).
    """
    if name not in ASSET_NAMES:
        raise ValueError(f"unknown asset folder {name!r}; known: {', '.join(ASSET_NAMES)}")
    for candidate in (_PACKAGE_DIR / "_assets" / name, _PACKAGE_DIR.parents[1] / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"chia asset folder {name!r} is missing from this installation")
