"""Real Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright, for UI tests.

Playwright's own browser download is never used (``playwright install`` needs the
network); the system Chromium is launched through ``executable_path``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

__all__ = ["CHROMIUM_ARGS", "chromium", "chromium_path"]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def chromium_path() -> str:
    """The Chromium executable: ``$CHIA_CHROMIUM`` or the first of chromium/chromium-browser.

    Raises:
        RuntimeError: If none is installed (``apt-get install -y chromium``).
    """
    for candidate in (os.environ.get("CHIA_CHROMIUM"), "chromium", "chromium-browser"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    raise RuntimeError("chromium is not installed (apt-get install -y chromium)")


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Launch headless Chromium; yield the Playwright browser; close everything on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
