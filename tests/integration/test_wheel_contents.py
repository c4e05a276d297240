"""The built wheel carries every packaged campaign, profile, the relay and the dashboard."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_ships_assets(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path)],
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("chia-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = [
        f"chia/_assets/{path.relative_to(REPO)}"
        for folder in ("campaigns", "profiles", "relay", "dashboard")
        for path in (REPO / folder).rglob("*")
        if path.is_file()
    ]
    assert expected, "no asset files found in the checkout"
    missing = [name for name in expected if name not in names]
    assert not missing, f"missing from wheel: {missing}"
    assert "chia/_assets/campaigns/federated-chat/campaign.jsonc" in names
    assert "chia/_assets/profiles/aurora.json" in names

    # Installed from the wheel (not the checkout), chia.assets finds them inside the package.
    target = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    probe = (
        "import chia.assets as a; p = a.path('campaigns'); "
        "assert '_assets' in str(p), p; print(sorted(x.name for x in p.iterdir()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "federated-chat" in out.stdout
