from __future__ import annotations

import pytest

from chia.cluster.loading import cluster_schema, load_cluster, parse_cluster
from chia.errors import ChiaUsageError

MINIMAL = """\
cluster_name: local-test
provider: {head_ip: 127.0.0.1}
available_node_types:
  sim:
    resources: {CPU: 1, verilator: 2}
    num_workers: 2
    compatible_ips: [127.0.0.1]
"""


def test_the_minimal_file_from_the_issue_loads():
    config = parse_cluster(MINIMAL)
    assert config.cluster_name == "local-test"
    assert config.available_node_types["sim"].resources == {"CPU": 1, "verilator": 2}
    assert config.allocation == "least-loaded"


def test_unknown_key_names_the_key_and_its_line():
    text = MINIMAL.replace("    num_workers: 2\n", "    num_worker: 2\n")
    with pytest.raises(ChiaUsageError) as err:
        parse_cluster(text, "c.yaml")
    assert str(err.value) == "c.yaml:6: unknown key 'available_node_types.sim.num_worker'"


def test_bad_value_names_key_line_and_reason():
    text = MINIMAL.replace("num_workers: 2", "num_workers: -1")
    with pytest.raises(ChiaUsageError, match=r"c.yaml:6: available_node_types.sim.num_workers: "):
        parse_cluster(text, "c.yaml")


def test_missing_required_key_is_named():
    with pytest.raises(ChiaUsageError, match=r"missing required key 'provider'"):
        parse_cluster("cluster_name: x\n", "c.yaml")


def test_yaml_syntax_error_has_a_line():
    with pytest.raises(ChiaUsageError, match=r"c.yaml:2:22: YAML syntax error"):
        parse_cluster("cluster_name: x\nprovider: {head_ip: 1]\nmore: 1\n", "c.yaml")


def test_env_placeholders_expand_with_defaults():
    text = MINIMAL.replace("127.0.0.1}", "${HEAD}}").replace(
        "num_workers: 2", "num_workers: ${N:-3}"
    )
    text = text.replace("{head_ip: ${HEAD}}", "\n  head_ip: ${HEAD}")
    config = parse_cluster(text, env={"HEAD": "10.0.0.5"})
    assert config.provider.head_ip == "10.0.0.5"
    assert config.available_node_types["sim"].num_workers == 3


def test_unset_variable_names_key_and_line():
    text = "cluster_name: x\nprovider:\n  head_ip: ${NOPE_NOT_SET}\n"
    with pytest.raises(ChiaUsageError) as err:
        parse_cluster(text, "c.yaml", env={})
    assert (
        str(err.value)
        == "c.yaml:3: provider.head_ip: environment variable ${NOPE_NOT_SET} is not set"
    )


def test_bad_node_type_name_and_duplicate_machines():
    with pytest.raises(ChiaUsageError, match="invalid node type name"):
        parse_cluster(MINIMAL.replace("  sim:", "  'bad name':"))
    dupes = MINIMAL + "  \n".join([""])
    text = MINIMAL.replace(
        "provider: {head_ip: 127.0.0.1}",
        "provider: {head_ip: 127.0.0.1, machines: [{ip: 10.0.0.1}, {ip: 10.0.0.1}]}",
    )
    with pytest.raises(ChiaUsageError, match="machine names must be unique"):
        parse_cluster(text)
    assert dupes


def test_missing_file(tmp_path):
    with pytest.raises(ChiaUsageError, match="no such file"):
        load_cluster(tmp_path / "none.yaml")


def test_schema_describes_the_file():
    schema = cluster_schema()
    assert schema["title"] == "chia cluster file"
    assert {"cluster_name", "provider", "available_node_types", "aws_nodes"} <= set(
        schema["properties"]
    )


def test_chias_scoped_teardown_key_is_accepted_when_true_and_refused_when_false():
    assert parse_cluster(MINIMAL + "scoped_teardown: true\n").scoped_teardown is True
    with pytest.raises(ChiaUsageError, match=r"c.yaml:8: scoped_teardown: .*run `ray stop`"):
        parse_cluster(MINIMAL + "scoped_teardown: false\n", "c.yaml")
