"""The pieces of a site-realism scenario that sit on top of :mod:`chia.testing.netns`.

* :func:`clean_env`: an environment with no proxy variable or exchange token of the runner.
* :func:`serve_exchange`: ``chia exchange serve`` on the laptop, token-protected.
* :func:`write_site_profile`: a site profile whose mpiexec drops proxies as PALS does.
* :class:`Phases`: the wall time of each phase of a scenario, for its summary.
* :func:`serve_model`: our fake OpenAI server on the laptop's loopback.
* :func:`wait_for_line`, :func:`get_json`, :func:`secrets_under`: waiting on a log,
  an HTTP GET from inside a namespace, and the secret scan of run directories.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chia.exchange.settings import TOKEN_ENV
from chia.profiles import PROXY_VARIABLES
from chia.testing.netns import LAPTOP_ADDRESS, Topology
from chia.testing.sites import CHIA

__all__ = [
    "LaptopExchange",
    "LaptopModel",
    "Phases",
    "clean_env",
    "get_json",
    "secrets_under",
    "serve_exchange",
    "serve_model",
    "wait_for_line",
    "write_site_profile",
]


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


def serve_exchange(topo: Topology, workdir: Path, timeout_s: float = 30.0) -> LaptopExchange:
    """Start ``chia exchange serve`` in the laptop namespace on its address, with a token.

    The process is tracked by ``topo`` (stopped with it).

    Raises:
        AssertionError: If it never writes its URL (the message holds its output).
    """
    token = secrets.token_urlsafe(24)
    url_file = workdir / "exchange.url"
    log = workdir / "exchange.log"
    argv = [CHIA, "exchange", "serve", "--host", LAPTOP_ADDRESS, "--url-file", str(url_file)]
    proc = topo.popen("laptop", *argv, log=log, env=clean_env(**{TOKEN_ENV: token}))
    deadline = time.monotonic() + timeout_s
    while not (url_file.exists() and url_file.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"exchange never came up:\n{log.read_text(errors='replace')}")
        time.sleep(0.1)
    url = url_file.read_text().strip()
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    return LaptopExchange(url=url, port=port, token=token, log=log)


def write_site_profile(tmp_path: Path, site: str, **fields: Any) -> Path:
    """A profile for ``site`` whose mpiexec, like PALS, does not pass proxies to its ranks.

    Its launcher command is a wrapper that logs its argv (``<site>-mpiexec.argv``) and
    execs the real mpiexec with every proxy variable removed from its environment: the
    ranks get the proxy only if chia forwards it explicitly with ``-genv``, and a compute
    namespace without the proxy has no way to the exchange at all. ``fields`` are added
    to the profile (``remote_host``, ``run_root``, ``relay_host_file``...).
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
        **fields,
    }
    path = tmp_path / f"{site}.json"
    path.write_text(json.dumps(profile))
    return path


@dataclass
class Phases:
    """Wall time of a scenario's phases, each from the end of the one before.

    Args:
        scenario: Names the rows of the summary.
    """

    scenario: str
    started: float = field(default_factory=time.monotonic)
    durations: list[tuple[str, float]] = field(default_factory=list)

    def mark(self, phase: str) -> None:
        """End ``phase`` now (it began when the previous one ended)."""
        now = time.monotonic()
        self.durations.append((phase, now - self.started))
        self.started = now

    def rows(self) -> list[str]:
        """One Markdown table row per phase: scenario, phase, seconds."""
        return [f"| {self.scenario} | {name} | {secs:.1f} |" for name, secs in self.durations]


def wait_for_line(
    log: Path, text: str, proc: subprocess.Popen[bytes], timeout_s: float = 90
) -> str:
    """Wait until ``text`` (a regular expression) appears in ``log``; return the match.

    Raises:
        AssertionError: If ``proc`` exits or the time runs out first (with the log).
    """
    deadline = time.monotonic() + timeout_s
    while True:
        output = log.read_text(errors="replace") if log.exists() else ""
        found = re.search(text, output)
        if found:
            return found.group(found.lastindex or 0)
        if proc.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"never saw {text!r} in {log.name}:\n{output}")
        time.sleep(0.1)


@dataclass
class LaptopModel:
    """``chia llm fake-server`` on the laptop's loopback: port, request record, process."""

    url: str
    port: int
    record: Path
    proc: subprocess.Popen[bytes]

    def requests(self) -> list[dict[str, Any]]:
        """The chat-completion requests it received so far."""
        if not self.record.exists():
            return []
        return [json.loads(line) for line in self.record.read_text().splitlines()]


def serve_model(
    topo: Topology, workdir: Path, script: dict[str, Any], key_env: str, key: str
) -> LaptopModel:
    """Start our fake OpenAI server in the laptop namespace on 127.0.0.1, key required.

    Nothing outside the laptop namespace can reach its loopback: sites get to it only
    through a relay's reverse tunnel.
    """
    (workdir / "model-script.json").write_text(json.dumps(script))
    url_file, record = workdir / "model.url", workdir / "model-requests.jsonl"
    argv = [CHIA, "llm", "fake-server", "--script", str(workdir / "model-script.json")]
    argv += ["--url-file", str(url_file), "--record", str(record), "--api-key-env", key_env]
    proc = topo.popen("laptop", *argv, log=workdir / "model.log", env=clean_env(**{key_env: key}))
    deadline = time.monotonic() + 30
    while not (url_file.exists() and url_file.read_text().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            log = (workdir / "model.log").read_text(errors="replace")
            raise AssertionError(f"the fake model server never came up:\n{log}")
        time.sleep(0.1)
    url = url_file.read_text().strip()
    port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
    return LaptopModel(url, port, record, proc)


def get_json(topo: Topology, role: str, url: str, timeout_s: float = 30) -> Any:
    """GET ``url`` from inside ``role``'s namespace and decode its JSON body."""
    code = "import sys, urllib.request as u; print(u.urlopen(sys.argv[1]).read().decode())"
    done = topo.run(role, sys.executable, "-c", code, url, env=clean_env(), timeout=timeout_s)
    if done.returncode != 0:
        raise AssertionError(f"GET {url} in {role} failed: {done.stderr}")
    return json.loads(done.stdout)


def secrets_under(roots: list[Path], secrets_: list[str]) -> list[str]:
    """``path: secret-name`` for each file under ``roots`` that holds one of ``secrets_``."""
    found = []
    for root in roots:
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink():
                data = path.read_bytes()
                hits = [i for i, secret in enumerate(secrets_) if secret.encode() in data]
                found += [f"{path}: secret #{i}" for i in hits]
    return found
