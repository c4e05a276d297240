from __future__ import annotations

import json

from chia.dashboard.sites import discover_sites, read_site_snapshot, snapshot_signature


def test_discovers_each_site_subdirectory(two_site_run):
    (two_site_run / "exchange").mkdir()  # not a site: no launch.json, no events/
    assert list(discover_sites(two_site_run)) == ["aurora", "crux"]


def test_single_site_directory_is_one_site(two_site_run):
    site_dir = two_site_run / "crux"
    assert discover_sites(site_dir) == {"crux": site_dir}  # from placement.json
    (site_dir / "launch.json").write_text(json.dumps({"site": "crux-a"}))
    assert discover_sites(site_dir) == {"crux-a": site_dir}
    (site_dir / "launch.json").unlink()
    (site_dir / "placement.json").unlink()
    assert discover_sites(site_dir) == {"local": site_dir}


def test_missing_run_dir_has_no_sites(tmp_path):
    assert discover_sites(tmp_path / "nope") == {}


def test_snapshot_reads_status_and_placement_and_skips_bad_files(two_site_run):
    site_dir = two_site_run / "aurora"
    (site_dir / "status" / "broken.json").write_text("{not json")
    snap = read_site_snapshot("aurora", site_dir).to_json()
    assert [a["agent"] for a in snap["status"]["agents"]] == ["agent-a"]
    assert snap["placement"]["agents"][0]["host"] == "aurora-node"


def test_signature_changes_when_a_status_file_changes(two_site_run):
    site_dir = two_site_run / "aurora"
    before = snapshot_signature(site_dir)
    (site_dir / "status" / "agent-b.json").write_text("{}")
    assert snapshot_signature(site_dir) != before
