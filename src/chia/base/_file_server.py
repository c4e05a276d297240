"""The bypass file server: an actor on the Bypass owner's node that serves ``data:`` files.

Bypass providers run on workers, but ``data:`` paths name files on the machine that
loaded the YAML. The file server reads them there and hands back their contents.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ray

from chia.base._ray_util import current_node_id, pinned_to

__all__ = ["BypassFileServer", "start_file_server"]


class BypassFileServer:
    """Actor that reads files from its own node's filesystem."""

    def get_text(self, path: str) -> str:
        """Return the file's text (UTF-8)."""
        return Path(path).read_text(encoding="utf-8")

    def get_bytes(self, path: str) -> bytes:
        """Return the file's bytes."""
        return Path(path).read_bytes()

    def exists(self, path: str) -> bool:
        """True if ``path`` is a file on this node."""
        return Path(path).is_file()

    def node_id(self) -> str:
        """The node this server reads from."""
        return current_node_id()


def start_file_server() -> Any:
    """Start a file server pinned to the current node and return its handle."""
    actor_cls: Any = ray.remote(BypassFileServer)
    return actor_cls.options(
        num_cpus=0, max_concurrency=4, scheduling_strategy=pinned_to(current_node_id())
    ).remote()
