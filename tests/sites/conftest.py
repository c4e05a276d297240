"""The site-realism suite: namespaces for a laptop and two HPC sites (make test-sites)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chia.exchange.settings import TOKEN_ENV
from chia.profiles import PROXY_VARIABLES
from chia.testing.netns import LAPTOP_ADDRESS, Topology, netns_available
from chia.testing.sites import CHIA


@dataclass
class LaptopExchange:
    """The exchange served in the laptop namespace, and the token it demands."""

    url: str
    port: int
    token: str
    log: Path


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any proxy variable or exchange token, plus ``extra``.

    The test runner's own proxies (if any) must not leak into a namespace: each namespace
    gets exactly the variables its scenario gives it.
    """
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARIABLES and k != TOKEN_ENV}
    env.update(extra)
    return env


@pytest.fixture
def topo(tmp_path: Path) -> Iterator[Topology]:
    """The laptop, aurora and crux namespaces, removed (with their processes) afterwards."""
    reason = netns_available()
    if reason:
        pytest.skip(reason)
    if shutil.which("tinyproxy") is None:
        pytest.skip("tinyproxy is not installed (bash scripts/system-deps.sh)")
    with Topology(workdir=tmp_path) as topology:
        yield topology
    # Closing killed whatever was left in them and deleted them: none of ours may remain.
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert topology.prefix not in listed, listed


@pytest.fixture
def laptop_exchange(topo: Topology, tmp_path: Path) -> LaptopExchange:
    """``chia exchange serve`` on the laptop's address, with a shared token."""
    token = secrets.token_urlsafe(24)
    url_file = tmp_path / "exchange.url"
    log = tmp_path / "exchange.log"
    argv = [CHIA, "exchange", "serve", "--host", LAPTOP_ADDRESS, "--url-file", str(url_file)]
    proc = topo.popen("laptop", *argv, log=log, env=clean_env(**{TOKEN_ENV: token}))
    deadline = time.monotonic() + 30
    while not (url_file.exists() and url_file.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"exchange never came up:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
    url = url_file.read_text().strip()
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    return LaptopExchange(url=url, port=port, token=token, log=log)


def write_site_profile(tmp_path: Path, site: str) -> Path:
    """A profile for ``site`` whose mpiexec, like PALS, does not pass proxies to its ranks.

    Its launcher command is a wrapper that logs its argv (``<site>-mpiexec.argv``) and
    execs the real mpiexec with every proxy variable removed from its environment: the
    ranks get the proxy only if chia forwards it explicitly with ``-genv``, and a compute
    namespace without the proxy has no way to the exchange at all.
    """
    real = Path(sys.executable).parent / "mpiexec"
    wrapper = tmp_path / f"{site}-mpiexec"
    unset = " ".join(f"-u {name}" for name in PROXY_VARIABLES)
    wrapper.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{tmp_path}/{site}-mpiexec.argv"\n'
        f'exec env {unset} "{real}" "$@"\n'
    )
    wrapper.chmod(0o755)
    profile = {
        "name": site,
        "description": f"{site} in the site-realism namespaces (tests/sites)",
        "launcher": {"kind": "mpiexec", "command": str(wrapper)},
        "exchange": {"kind": "http", "url": None},
    }
    path = tmp_path / f"{site}.json"
    path.write_text(json.dumps(profile))
    return path
