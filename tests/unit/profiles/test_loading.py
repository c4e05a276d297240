from __future__ import annotations

import json

import pytest

from chia.errors import ChiaUsageError
from chia.profiles import expand_placeholders, load_profile, packaged_profiles

ALCF = {"ALCF_PROJECT": "chem", "ALCF_USER": "jinchu"}


def test_every_packaged_profile_loads():
    assert set(packaged_profiles()) >= {"aurora", "polaris", "crux", "local"}
    for name in packaged_profiles():
        profile = load_profile(name, env=ALCF)
        assert profile.name == name
        assert "${" not in json.dumps(profile.model_dump())


def test_ssh_user_defaults_to_alcf_user_and_can_differ():
    assert load_profile("aurora", env=ALCF).remote_host == "jinchu@aurora.alcf.anl.gov"
    profile = load_profile("aurora", env={**ALCF, "ALCF_SSH_USER": "jinchuli"})
    assert profile.remote_host == "jinchuli@aurora.alcf.anl.gov"
    assert profile.run_root == "/flare/chem/jinchu/chia-runs"


def test_unset_variable_names_variable_and_profile():
    with pytest.raises(ChiaUsageError, match=r"aurora\.json: environment variable ALCF_PROJECT"):
        load_profile("aurora", env={"ALCF_USER": "u"})


def test_expansion_does_not_touch_os_environ(monkeypatch):
    monkeypatch.delenv("ALCF_SSH_USER", raising=False)
    load_profile("crux", env=ALCF)
    import os

    assert "ALCF_SSH_USER" not in os.environ


def test_expand_placeholders_recurses_and_leaves_plain_dollars():
    data = {"a": ["${X}/y", {"b": "$HOME/${X}"}], "n": 3}
    assert expand_placeholders(data, {"X": "1"}, "w") == {"a": ["1/y", {"b": "$HOME/1"}], "n": 3}


def test_profile_file_by_path_with_unknown_key(tmp_path):
    path = tmp_path / "mine.json"
    path.write_text(json.dumps({"name": "mine", "launcher": {"kind": "local", "gpus": 4}}))
    with pytest.raises(ChiaUsageError, match=r"unknown key 'launcher.gpus'"):
        load_profile(str(path), env={})
    with pytest.raises(ChiaUsageError, match="no such profile"):
        load_profile("frontier", env={})
