"""Run CHIA's own chia/base tests against our chia.base (``make test-peer``).

At run time: downloads the chialoops 2.0.1 wheel from the package registry
(``pip download --no-deps``), extracts only ``chia/base/test`` into a temp dir, and runs
the test files listed in ``PEER_FILES`` with pytest, our package being the ``chia`` they
import. Tests that take an argument from their ``__main__`` get it from fixtures this
script writes next to them (``CONFTEST``). ``--against-peer`` runs the same files against
CHIA's own package instead (the figure next to ours). Nothing of their code is kept: the
temp dir is removed at the end.

Exit status 0 when every test outside ``EXPECTED`` passes. ``EXPECTED`` lists the tests
that read CHIA's private helpers or attributes (not behaviour we promise), each with its
reason; an expected failure that starts passing is reported so the list can shrink.

    python scripts/test_peer.py [--keep] [-k EXPR] [--against-peer]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

PEER = "chialoops==2.0.1"
# What CHIA 2.0.1 itself passes of these files: 75 as filed in the issue; 92 of 95 when
# this script runs them against CHIA's own package here (--against-peer; 2 CPUs, loaded,
# Ray 2.60): the 63 that pass here too, and 29 of the 31 in the two files that import
# CHIA's private helpers (TestKillAll and TestRayJobStop failed for CHIA itself).
PEER_PASSES = "75 (filed), 92 of 95 (this runner)"
PEER_FILES = [
    "ChiaFunction_tb.py",
    "test_bypass_tags.py",
    "test_cache_tags.py",
    "test_chia_remote_blocking.py",
    "chia_wait_tb.py",
    "pid_registry_tb.py",
]

_PRIVATE_CHIA_WAIT = "imports chia_wait's private _classify_stuck/_resources_cover/_retry_stuck"
_PRIVATE_PID = (
    "imports pid_registry's private _get_registry/_install_driver_cleanup/"
    "_install_popen_hook/_pid_tracking_scope/_reset_registry/_tls"
)
# What their __main__ hands the tests that take an argument, as pytest fixtures (written
# next to their files at run time): test_cache_tags' integration checks get the cache
# its __main__ starts for them (shared by 6..9 and 15, a 1 KB one for 10, a tag-filtered
# one for 14), and test_bypass_tags' test_8 is skipped as its __main__ skips it without
# --bypass-yaml.
CONFTEST = """
import tempfile

import pytest
import ray

_CACHES = {"test_10_auto_write_eviction": (1, "KB", "CACHE_YAML"),
           "test_14_tags_filter": (4, "MB", "TAGS_CACHE_YAML")}
_current = {}


@pytest.fixture
def cache(request):
    from chia.base.cache import start_cache, stop_cache
    mod, name = request.module, request.node.name
    size, units, yaml_name = _CACHES.get(name, (4, "MB", "CACHE_YAML"))
    key = (mod.__name__, name if name in _CACHES else "shared")
    if _current.get("key") != key:
        ray.init(ignore_reinit_error=True)
        stop_cache()
        cache_dir = tempfile.mkdtemp(prefix="chia_cache_", dir=str(mod._OUT_DIR))
        _current["key"] = key
        _current["handle"] = start_cache(size=size, units=units, cache_dir_path=cache_dir,
                                         yaml_path=mod.write_yaml(getattr(mod, yaml_name)))
    return _current["handle"]


@pytest.fixture
def yaml_path():
    pytest.skip("their __main__ runs it only with --bypass-yaml")
"""

# Test id (file::name, or a file for "the file does not import") -> why it may fail.
EXPECTED: dict[str, str] = {
    "chia_wait_tb.py": _PRIVATE_CHIA_WAIT,
    "pid_registry_tb.py": _PRIVATE_PID,
}


def _download(dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", PEER, "-d", str(dest)],
        check=True,
    )
    wheels = sorted(dest.glob("chialoops-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download {PEER} produced no wheel in {dest}")
    return wheels[0]


def _extract_tests(wheel: Path, root: Path, whole: bool = False) -> Path:
    """Extract chia/base/test/ of the wheel under ``root`` (same relative layout).

    ``whole`` extracts the whole ``chia`` package, which then shadows ours: the run
    measures CHIA itself with the same runner.
    """
    prefix = "chia/" if whole else "chia/base/test/"
    with zipfile.ZipFile(wheel) as zf:
        members = [n for n in zf.namelist() if n.startswith(prefix) and n.endswith(".py")]
        if whole:  # their chia is a namespace package, which ours (a regular one) beats
            (root / "chia").mkdir(parents=True, exist_ok=True)
            (root / "chia" / "__init__.py").write_text("")
        for name in members:
            zf.extract(name, root)
    return root / "chia" / "base" / "test"


def _key(classname: str, name: str) -> str:
    """``file.py::[Class::]test`` from a junit testcase; ``file.py`` for a module error."""
    parts = (classname or name).split(".")
    stems = {Path(f).stem for f in PEER_FILES}
    at = next((i for i, p in enumerate(parts) if p in stems), len(parts) - 1)
    file = parts[at] + ".py"
    if not classname:
        return file
    return "::".join([file, *parts[at + 1 :], name])


def _outcomes(report: Path) -> dict[str, str]:
    """Map each test id (or file, for a collection error) to passed/failed/error/skipped."""
    found: dict[str, str] = {}
    for case in ET.parse(report).iter("testcase"):
        if case.find("error") is not None:
            outcome = "error"
        elif case.find("failure") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        found[_key(case.get("classname", ""), case.get("name", ""))] = outcome
    return found


def _env(test_dir: Path, token_dir: Path, peer_root: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    # Their test modules are imported by name on Ray workers (functions pickle by
    # reference), and pid_registry_tb starts `python`/`ray` subprocesses. With
    # ``peer_root`` (CHIA's whole package under it) that package comes first everywhere.
    first = [str(peer_root)] if peer_root else []
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [*first, str(test_dir), env.get("PYTHONPATH")])
    )
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    token = Path.home() / ".ray" / "auth_token"
    preset = any(env.get(v) for v in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"))
    if not preset and not token.is_file():  # a token of the run's own, none left in ~/.ray
        (token_dir / "auth_token").write_text(secrets.token_hex(32))
        env["RAY_AUTH_TOKEN_PATH"] = str(token_dir / "auth_token")
    env.pop("RAY_ADDRESS", None)
    return env


def main() -> int:
    """Download, extract and run the peer tests; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    parser.add_argument("-k", dest="select", help="pytest -k expression")
    parser.add_argument(
        "--against-peer", action="store_true", help="run them against CHIA's own package"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="chia-peer-"))
    try:
        wheel = _download(tmp / "wheel")
        test_dir = _extract_tests(wheel, tmp / "src", whole=args.against_peer)
        (test_dir / "conftest.py").write_text(CONFTEST)
        (tmp / "pytest.ini").write_text("[pytest]\n")
        report = tmp / "report.xml"
        cmd = [
            sys.executable, "-m", "pytest", "-c", str(tmp / "pytest.ini"),
            "--rootdir", str(tmp / "src"), "-p", "no:randomly", "-p", "no:cacheprovider",
            "-o", "timeout=180", "-q", "-rfE", "--continue-on-collection-errors",
            f"--junitxml={report}",
            *(["-k", args.select] if args.select else []),
            *[str(test_dir / f) for f in PEER_FILES],
        ]  # fmt: skip
        token_dir = tmp / "ray-token"
        token_dir.mkdir()
        subprocess.run(
            cmd,
            cwd=tmp / "src",
            env=_env(test_dir, token_dir, tmp / "src" if args.against_peer else None),
            check=False,
        )
        return _summarise(_outcomes(report), "CHIA's own package" if args.against_peer else "")
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _summarise(outcomes: dict[str, str], against: str = "") -> int:
    passed = [k for k, v in outcomes.items() if v == "passed"]
    skipped = [k for k, v in outcomes.items() if v == "skipped"]
    bad = [k for k, v in outcomes.items() if v in ("failed", "error")]
    unexpected = [k for k in bad if k not in EXPECTED]
    fixed = [k for k in passed if k in EXPECTED]
    print()
    print(f"peer tests ({PEER}, chia/base/test): {len(outcomes)} collected")
    if against:
        print(f"  passed against {against}: {len(passed)}")
    else:
        print(f"  passed against our chia.base: {len(passed)}   (CHIA itself: {PEER_PASSES})")
    print(f"  skipped:                      {len(skipped)}")
    print(f"  failed or errored:            {len(bad)}   (expected: {len(bad) - len(unexpected)})")
    for key in sorted(k for k in bad if k in EXPECTED):
        print(f"    expected  {key}: {EXPECTED[key]}")
    for key in sorted(fixed):
        print(f"  now passing, drop it from EXPECTED: {key}")
    for key in sorted(unexpected):
        print(f"  UNEXPECTED FAILURE  {key}")
    return 1 if unexpected else 0


if __name__ == "__main__":
    raise SystemExit(main())
