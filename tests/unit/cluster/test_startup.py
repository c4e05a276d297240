"""Preparing machines runs initialization commands and copies file mounts, for real."""

from __future__ import annotations

import pytest

from chia.cluster.loading import parse_cluster
from chia.cluster.plan import cluster_machines
from chia.cluster.startup import prepare_machines
from chia.errors import ChiaError


def _config(tmp_path, init: str, source: str):
    return parse_cluster(
        f"""\
cluster_name: prep
provider: {{head_ip: 127.0.0.1}}
initialization_commands: [{init!r}]
file_mounts: {{{str(tmp_path / "mounted" / "cfg.json")!r}: {source!r}}}
available_node_types:
  sim: {{resources: {{CPU: 1}}, compatible_ips: [127.0.0.1]}}
"""
    )


def test_initialization_and_file_mounts_run_on_each_machine(tmp_path):
    source = tmp_path / "cfg.json"
    source.write_text('{"ok": true}')
    (tmp_path / "mounted").mkdir()
    config = _config(tmp_path, f"touch {tmp_path / 'initialized'}", str(source))
    lines: list[str] = []
    prepare_machines(config, cluster_machines(config), lines.append)
    assert (tmp_path / "initialized").exists()
    assert (tmp_path / "mounted" / "cfg.json").read_text() == '{"ok": true}'
    assert any("prepared" in line for line in lines)


def test_a_failing_initialization_command_stops_with_its_name(tmp_path):
    source = tmp_path / "cfg.json"
    source.write_text("{}")
    config = _config(tmp_path, "exit 3", str(source))
    with pytest.raises(ChiaError, match="initialization command 'exit 3'"):
        prepare_machines(config, cluster_machines(config), print)
