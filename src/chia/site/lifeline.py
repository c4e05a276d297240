"""Tie a child process's life to its parent's, so a killed launcher leaves no orphans.

The implementation lives in :mod:`chia.processes` (a leaf module, so the exchange and the
dashboard can use it too); this name stays for the site's host processes.
"""

from __future__ import annotations

from chia.processes import die_with_parent

__all__ = ["die_with_parent"]
