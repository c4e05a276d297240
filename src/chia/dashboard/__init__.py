"""The read-only multi-site dashboard: an aiohttp server over run directories.

Imports only :mod:`chia.events` from chia (never Ray, Academy or the LLM stack), so
``chia dashboard`` starts fast. The SSH/rsync site mirroring lives in
:mod:`chia.dashboard.site_mirrors` and is imported only when ``--system`` is used.
"""

from chia.dashboard.app import create_app, status_payload
from chia.dashboard.serve import DashboardServer, serve_in_foreground, serve_until
from chia.dashboard.sites import discover_sites
from chia.dashboard.store import RunStore

__all__ = [
    "DashboardServer",
    "RunStore",
    "create_app",
    "discover_sites",
    "serve_in_foreground",
    "serve_until",
    "status_payload",
]
