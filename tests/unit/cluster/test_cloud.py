from __future__ import annotations

from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from chia.cluster.cloud import GcpProvider, cloud_machines, planned_cloud_machines
from chia.cluster.config import GcpNodes
from chia.cluster.lifecycle import cluster_down, cluster_up
from chia.cluster.loading import parse_cluster
from chia.cluster.plan import make_plan
from chia.cluster.state import ClusterState

FILE = """\
cluster_name: cloudy
provider: {head_ip: 127.0.0.1}
aws_nodes:
  region: us-east-1
  instance_type: c5.2xlarge
  image_id: ${AMI}
  key_name: chia-key
  count: 2
  cpus: 8
  tags: {team: arch}
available_node_types:
  sim: {resources: {CPU: 4}, num_workers: 2, compatible_ips: [aws]}
"""


@pytest.fixture
def aws(monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SECURITY_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        ec2.create_key_pair(KeyName="chia-key")
        ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        yield ec2, ami


def test_aws_nodes_are_created_planned_and_terminated(aws, tmp_path, monkeypatch):
    ec2, ami = aws
    monkeypatch.setenv("CHIA_CLUSTERS_DIR", str(tmp_path))
    config = parse_cluster(FILE, env={"AMI": ami})
    said: list[str] = []
    dry = cluster_up(config, tmp_path / "c.yaml", dry_run=True, say=said.append)
    assert "machine aws-1 (<aws-1>;" in said[0] and dry.state is None
    assert ec2.describe_instances()["Reservations"] == []  # a dry run creates nothing

    created = cloud_machines(config, say=said.append)
    assert [c.machine.label for c in created] == ["aws-1", "aws-2"]
    found = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    assert {i["InstanceType"] for i in found} == {"c5.2xlarge"}
    assert {i["ImageId"] for i in found} == {ami} and {i["KeyName"] for i in found} == {"chia-key"}
    tags = {t["Key"]: t["Value"] for t in found[0]["Tags"]}
    assert tags == {"chia-cluster": "cloudy", "team": "arch"}
    plan = make_plan(config, [c.machine for c in created])
    ips = {i["PrivateIpAddress"] for i in found}
    assert {w.machine.ip for w in plan.workers} == ips  # the real addresses are in the plan
    assert all(w.machine.remote and w.machine.ssh_user == "ubuntu" for w in plan.workers)

    ClusterState(
        cluster_name="cloudy", config_path="c.yaml", head_address="h:1", cloud=created
    ).save()
    cluster_down(config, say=said.append)
    states = {
        i["State"]["Name"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
    }
    assert states == {"terminated"}
    assert ClusterState.load("cloudy") is None


def test_placeholders_for_dry_runs():
    config = parse_cluster(FILE, env={"AMI": "ami-1"})
    assert [m.ip for m in planned_cloud_machines(config)] == ["<aws-1>", "<aws-2>"]


class _Op:
    def result(self) -> None:
        return None


class RecordingCompute:
    """A stand-in for compute_v1.InstancesClient that records its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def insert(self, **kw):
        self.calls.append(("insert", kw))
        return _Op()

    def get(self, **kw):
        self.calls.append(("get", kw))
        n = len([c for c in self.calls if c[0] == "get"])
        nic = SimpleNamespace(
            network_i_p=f"10.128.0.{n}", access_configs=[SimpleNamespace(nat_i_p=f"34.1.1.{n}")]
        )
        return SimpleNamespace(network_interfaces=[nic])

    def delete(self, **kw):
        self.calls.append(("delete", kw))
        return _Op()


def test_gcp_adapter_behind_the_same_interface():
    spec = GcpNodes(
        project="p",
        zone="us-central1-a",
        machine_type="n2-standard-8",
        source_image="projects/debian-cloud/global/images/family/debian-12",
        count=2,
        use_private_ip=False,
    )
    client = RecordingCompute()
    created = GcpProvider(spec, client).create("lab")
    assert [c.machine.ip for c in created] == ["34.1.1.1", "34.1.1.2"]
    assert [c.machine.group for c in created] == ["gcp", "gcp"]
    insert = client.calls[0][1]
    assert insert["project"] == "p" and insert["zone"] == "us-central1-a"
    resource = insert["instance_resource"]
    assert resource["name"] == "chia-lab-1"
    assert resource["machine_type"] == "zones/us-central1-a/machineTypes/n2-standard-8"
    assert resource["labels"]["chia-cluster"] == "lab"
    GcpProvider(spec, client).terminate(created)
    assert [c[1]["instance"] for c in client.calls if c[0] == "delete"] == [
        "chia-lab-1",
        "chia-lab-2",
    ]
