"""Mirroring several sites for one dashboard: per site one ControlMaster and one rsync loop.

``mirrored_sites`` brings every site up in turn and tears all of them down on exit,
Ctrl-C, SIGTERM, SIGHUP or a failure part-way (a site whose login fails leaves no master
or loop of the sites before it behind).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from chia.dashboard.mirror import RsyncMirror
from chia.dashboard.ssh import SshMaster, SshTarget
from chia.interrupts import interruptible
from chia.reaper import Reaper

__all__ = ["MirrorSettings", "SiteRemote", "mirrored_sites", "site_remotes"]


@dataclass(frozen=True)
class SiteRemote:
    """Where one site's runs live: its login node and its run root there."""

    site: str
    host: str
    run_root: str

    def run_dir(self, run_id: str) -> str:
        """``<run_root>/<run_id>/<site>``: the directory the site writes."""
        return f"{self.run_root.rstrip('/')}/{run_id}/{self.site}"


@dataclass(frozen=True)
class MirrorSettings:
    """How sites are reached and mirrored.

    Attributes:
        mirror_root: Mirrors go to ``<mirror_root>/<run_id>/<site>``.
        interval_s: Seconds between rsync passes.
        ssh_config: An ``ssh -F`` file (None: ssh's own).
        control_dir: Where ControlMaster sockets live (None: ``~/.cache/chia/ssh``).
        connect_timeout_s: How long each login may take.
    """

    mirror_root: Path
    interval_s: float = 3.0
    ssh_config: Path | None = None
    control_dir: Path | None = None
    connect_timeout_s: float = 60.0


def site_remotes(
    systems: str, *, remote_host: str | None = None, remote_run_root: str | None = None
) -> list[SiteRemote]:
    """Parse ``--system a,b`` into sites, from their profiles (names or JSON files).

    Args:
        systems: Comma-separated profile names or files.
        remote_host: Replaces the profile's ``remote_host``; only with one site.
        remote_run_root: Replaces the profile's ``run_root``; only with one site.

    Raises:
        ChiaUsageError: For an empty or repeated entry, an override with several sites,
            or a profile without a ``remote_host``.
    """
    from chia.errors import ChiaUsageError
    from chia.profiles import load_profile

    refs = [ref.strip() for ref in systems.split(",")]
    if not all(refs):
        raise ChiaUsageError(f"--system {systems!r}: empty entry; use e.g. aurora,crux")
    if len(refs) > 1:
        for flag, value in (("--remote-host", remote_host), ("--remote-run-root", remote_run_root)):
            if value is not None:
                raise ChiaUsageError(
                    f"{flag} applies to one site, but --system names {len(refs)} "
                    f"({', '.join(refs)}); set it in each site's profile instead"
                )
    remotes: list[SiteRemote] = []
    for ref in refs:
        profile = load_profile(ref)
        host = remote_host or profile.remote_host
        if not host:
            raise ChiaUsageError(f"profile {profile.name!r} has no remote_host to ssh to")
        if any(r.site == profile.name for r in remotes):
            raise ChiaUsageError(f"--system names site {profile.name!r} twice")
        remotes.append(SiteRemote(profile.name, host, remote_run_root or profile.run_root))
    return remotes


@contextlib.contextmanager
def mirrored_sites(
    run_id: str,
    remotes: list[SiteRemote],
    settings: MirrorSettings,
    *,
    say: Callable[[str], None] = print,
) -> Iterator[dict[str, RsyncMirror]]:
    """Open one master per site and keep each site's run directory mirrored.

    Yields:
        The mirror of each site, by site name. On exit every loop is stopped and every
        master closed, in reverse order.

    Raises:
        SshError: If a site's login fails (after tearing down the sites already up).
    """
    # SIGTERM and SIGHUP unwind like Ctrl-C (chia.interrupts), so the tear-down runs.
    with interruptible(), ExitStack() as stack:
        mirrors: dict[str, RsyncMirror] = {}
        # Each master detaches itself; the reaper stops them if we die by SIGKILL.
        reaper = stack.enter_context(Reaper())
        for remote in remotes:
            target = SshTarget(remote.site, remote.host, settings.ssh_config)
            say(f"[{remote.site}] connecting to {remote.host} (one ssh ControlMaster)")
            master = SshMaster(
                target,
                control_dir=settings.control_dir,
                connect_timeout_s=settings.connect_timeout_s,
                reaper=reaper,
            )
            stack.enter_context(master)
            stack.callback(say, f"[{remote.site}] closed the ssh master")
            mirror = RsyncMirror(
                master,
                remote.run_dir(run_id),
                settings.mirror_root / run_id / remote.site,
                interval_s=settings.interval_s,
                say=say,
            )
            mirrors[remote.site] = stack.enter_context(mirror)
        yield mirrors
