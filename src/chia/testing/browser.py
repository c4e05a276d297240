"""Real Chromium (Debian's ``/usr/bin/chromium``) driven by Playwright, for UI tests.

Playwright's own browser download is never used (``playwright install`` needs the
network); the system Chromium is launched through ``executable_path``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
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
def chromium(netns: str | None = None) -> Iterator[Browser]:
    """Launch headless Chromium; yield the Playwright browser; close everything on exit.

    Args:
        netns: Run the browser inside this network namespace (``ip netns exec``), so it
            sees that namespace's loopback and routes, as a user's browser there would.
            Playwright drives it over inherited pipes, which the namespace does not cut.
    """
    from playwright.sync_api import sync_playwright

    with contextlib.ExitStack() as stack:
        executable = chromium_path()
        if netns is not None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="chia-chromium-")))
            wrapper = folder / "chromium"
            command = f"ip netns exec {shlex.quote(netns)} {shlex.quote(executable)}"
            wrapper.write_text(f'#!/bin/sh\nexec {command} "$@"\n')
            wrapper.chmod(0o755)
            executable = str(wrapper)
        playwright = stack.enter_context(sync_playwright())
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
