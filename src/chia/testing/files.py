"""File-tree fingerprints, to prove that readers never write."""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["tree_digest"]


def tree_digest(root: Path) -> str:
    """Hash every path, mode, size, mtime and content under ``root`` (symlinks not followed).

    Any created, removed, renamed, rewritten or touched file or directory changes it.
    """
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_mode}\0{stat.st_size}\0".encode())
        digest.update(f"{stat.st_mtime_ns}\0".encode())
        if path.is_file() and not path.is_symlink():
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
