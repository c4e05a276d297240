"""Find the sites of a run directory and read their status and placement snapshots.

A federated run is ``<runs>/<run_id>/<site>/`` with one subdirectory per site; a
single-site run directory (``<run>/events/``, ``<run>/launch.json``) is served as one site.
Everything here only reads: snapshots are parsed from bytes, nothing is created or fixed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chia.events.runs import is_site_dir
from chia.events.snapshots import AgentStatus, Placement, read_snapshot

__all__ = ["SiteSnapshot", "discover_sites", "read_site_snapshot"]

#: Site name used for a single-site run directory whose launch.json does not name one.
DEFAULT_SITE = "local"


def _declared_site_name(site_dir: Path) -> str | None:
    """The site a single-site directory names in launch.json or placement.json."""
    for name in ("launch.json", "placement.json"):
        try:
            data = json.loads((site_dir / name).read_bytes())
        except (OSError, ValueError):
            continue
        site = data.get("site") if isinstance(data, dict) else None
        if isinstance(site, str) and site:
            return site
    return None


def discover_sites(run_dir: Path) -> dict[str, Path]:
    """Map each site name of a run to its directory.

    Args:
        run_dir: ``<runs>/<run_id>``; either holds one directory per site, or is itself
            a single site's directory.

    Returns:
        Sites sorted by name; empty when the directory does not exist (yet).
    """
    if not run_dir.is_dir():
        return {}
    if is_site_dir(run_dir):
        return {_declared_site_name(run_dir) or DEFAULT_SITE: run_dir}
    return {p.name: p for p in sorted(run_dir.iterdir()) if p.is_dir() and is_site_dir(p)}


@dataclass(frozen=True)
class SiteSnapshot:
    """What one site's snapshot files say right now."""

    site: str
    statuses: list[AgentStatus]
    placement: Placement | None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``{"site", "status": {"agents": [...]}, "placement"}``."""
        return {
            "site": self.site,
            "status": {"agents": [s.model_dump(mode="json") for s in self.statuses]},
            "placement": self.placement.model_dump(mode="json") if self.placement else None,
        }


def read_site_snapshot(site: str, site_dir: Path) -> SiteSnapshot:
    """Read ``status/*.json`` and ``placement.json`` of one site (unreadable files skipped)."""
    statuses = [
        status
        for path in sorted((site_dir / "status").glob("*.json"))
        if (status := read_snapshot(path, AgentStatus)) is not None
    ]
    return SiteSnapshot(site, statuses, read_snapshot(site_dir / "placement.json", Placement))


def snapshot_signature(site_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """A cheap fingerprint (name, size, mtime) of a site's snapshot files, to spot changes."""
    paths = [site_dir / "placement.json", *sorted((site_dir / "status").glob("*.json"))]
    signature = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        signature.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(signature)
