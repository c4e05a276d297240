"""Shared console objects and small printing helpers for the command modules."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console

__all__ = ["console", "err_console", "print_json"]

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    """Print JSON to stdout exactly (no markup), for piping into files and tools."""
    print(json.dumps(data, indent=2, default=str))
