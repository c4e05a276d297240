"""Run CHIA's own chia/base tests against our chia.base (``make test-peer``).

At run time: downloads the chialoops 2.0.1 wheel from the package registry
(``pip download --no-deps``), extracts only ``chia/base/test`` into a temp dir, and runs
the test files listed in ``PEER_FILES`` with pytest, our package being the ``chia`` they
import. Nothing of their code is kept: the temp dir is removed at the end.

Exit status 0 when every test outside ``EXPECTED`` passes. ``EXPECTED`` lists the tests
that read CHIA's private helpers or attributes (not behaviour we promise), each with its
reason; an expected failure that starts passing is reported so the list can shrink.

    python scripts/test_peer.py [--keep] [-k EXPR]
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
# What CHIA 2.0.1 itself passes of these files: 75 as filed in the issue; 85 when this
# script runs them against CHIA's own package here (2 CPUs, Ray 2.60; its only failure
# is TestRayJobStop, and the 9 fixture errors below are errors for CHIA too).
PEER_PASSES = "75 (filed), 85 (this runner)"
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
_FIXTURE = "a helper their __main__ calls with an argument; pytest finds no such fixture"

# Test id (file::name, or a file for "the file does not import") -> why it may fail.
EXPECTED: dict[str, str] = {
    "chia_wait_tb.py": _PRIVATE_CHIA_WAIT,
    "pid_registry_tb.py": _PRIVATE_PID,
    "test_bypass_tags.py::test_8_real_yaml_file": _FIXTURE + " (yaml_path)",
}
# test_cache_tags.py's integration checks are @ChiaFunction tasks taking the cache handle,
# called from its __main__; under pytest each is a test asking for a `cache` fixture.
for _name in ("6_auto_write", "6b_auto_write_profiled", "7_provider_read", "8_bypass_result_cached",
              "9_no_tag_or_unconfigured", "10_auto_write_eviction", "14_tags_filter",
              "15_bypass_cond_cache_hit"):  # fmt: skip
    EXPECTED[f"test_cache_tags.py::test_{_name}"] = _FIXTURE + " (cache)"


def _download(dest: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", PEER, "-d", str(dest)],
        check=True,
    )
    wheels = sorted(dest.glob("chialoops-*.whl"))
    if not wheels:
        raise SystemExit(f"pip download {PEER} produced no wheel in {dest}")
    return wheels[0]


def _extract_tests(wheel: Path, root: Path) -> Path:
    """Extract only chia/base/test/ of the wheel under ``root`` (same relative layout)."""
    with zipfile.ZipFile(wheel) as zf:
        members = [
            n for n in zf.namelist() if n.startswith("chia/base/test/") and n.endswith(".py")
        ]
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


def _env(test_dir: Path, token_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    # Their test modules are imported by name on Ray workers (functions pickle by
    # reference), and pid_registry_tb starts `python`/`ray` subprocesses.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(test_dir), env.get("PYTHONPATH")]))
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
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="chia-peer-"))
    try:
        test_dir = _extract_tests(_download(tmp / "wheel"), tmp / "src")
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
        subprocess.run(cmd, cwd=tmp / "src", env=_env(test_dir, token_dir), check=False)
        return _summarise(_outcomes(report))
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _summarise(outcomes: dict[str, str]) -> int:
    passed = [k for k, v in outcomes.items() if v == "passed"]
    bad = [k for k, v in outcomes.items() if v in ("failed", "error")]
    unexpected = [k for k in bad if k not in EXPECTED]
    fixed = [k for k in passed if k in EXPECTED]
    print()
    print(f"peer tests ({PEER}, chia/base/test): {len(outcomes)} collected")
    print(f"  passed against our chia.base: {len(passed)}   (CHIA {PEER} itself: {PEER_PASSES})")
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
