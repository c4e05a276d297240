"""Cloud machines folded into a cluster: AWS (boto3) and GCP behind one interface.

``chia up`` creates the machines a file asks for (``aws_nodes`` / ``gcp_nodes``), waits
until they run, and adds them to the plan as ssh machines in group ``aws`` / ``gcp``
(select them with ``compatible_ips: [aws]``). ``chia down`` terminates them. The cloud
libraries are an optional extra (``pip install 'chia[cloud]'``) imported only here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from chia.cluster.config import AwsNodes, ClusterConfig, GcpNodes, Machine
from chia.cluster.state import CloudInstance
from chia.errors import ChiaUsageError

__all__ = [
    "AwsProvider",
    "CloudProvider",
    "GcpProvider",
    "cloud_machines",
    "planned_cloud_machines",
    "providers_for",
    "terminate_cloud",
]

CLUSTER_TAG = "chia-cluster"


class CloudProvider(Protocol):
    """Creates and terminates the machines of one cloud section."""

    kind: str

    def create(self, cluster: str) -> list[CloudInstance]:
        """Create the machines, wait until they run, and return them with their ips."""
        ...

    def terminate(self, instances: list[CloudInstance]) -> None:
        """Terminate the given machines (those of this provider)."""
        ...


def _machine(kind: str, index: int, ip: str, ssh_user: str, cpus: float | None) -> Machine:
    return Machine(
        ip=ip, name=f"{kind}-{index}", group=kind, ssh=True, ssh_user=ssh_user, cpus=cpus
    )


class AwsProvider:
    """EC2 through boto3: ``run_instances``, wait for running, ``terminate_instances``."""

    kind = "aws"

    def __init__(self, spec: AwsNodes, client: Any | None = None) -> None:
        self.spec = spec
        if client is None:
            try:
                import boto3  # type: ignore[import-untyped,unused-ignore]
            except ImportError:
                raise ChiaUsageError("aws_nodes needs boto3: pip install 'chia[cloud]'") from None
            client = boto3.client("ec2", region_name=spec.region)
        self.client = client

    def create(self, cluster: str) -> list[CloudInstance]:
        """Launch ``count`` instances tagged with the cluster name."""
        spec = self.spec
        request: dict[str, Any] = {
            "ImageId": spec.image_id,
            "InstanceType": spec.instance_type,
            "KeyName": spec.key_name,
            "MinCount": spec.count,
            "MaxCount": spec.count,
            "TagSpecifications": [
                {
                    "ResourceType": "instance",
                    "Tags": [
                        {"Key": CLUSTER_TAG, "Value": cluster},
                        *({"Key": k, "Value": v} for k, v in spec.tags.items()),
                    ],
                }
            ],
        }
        if spec.security_group_ids:
            request["SecurityGroupIds"] = spec.security_group_ids
        if spec.subnet_id:
            request["SubnetId"] = spec.subnet_id
        ids = [i["InstanceId"] for i in self.client.run_instances(**request)["Instances"]]
        self.client.get_waiter("instance_running").wait(InstanceIds=ids)
        found = self.client.describe_instances(InstanceIds=ids)
        by_id = {i["InstanceId"]: i for r in found["Reservations"] for i in r["Instances"]}
        key = "PrivateIpAddress" if spec.use_private_ip else "PublicIpAddress"
        return [
            CloudInstance(
                provider=self.kind,
                instance_id=instance_id,
                machine=_machine(
                    self.kind, index, by_id[instance_id][key], spec.ssh_user, spec.cpus
                ),
                zone=spec.region,
            )
            for index, instance_id in enumerate(ids, start=1)
        ]

    def terminate(self, instances: list[CloudInstance]) -> None:
        """Terminate the instances and wait until they are gone."""
        ids = [i.instance_id for i in instances if i.provider == self.kind]
        if ids:
            self.client.terminate_instances(InstanceIds=ids)
            self.client.get_waiter("instance_terminated").wait(InstanceIds=ids)


class GcpProvider:
    """Compute Engine through ``google.cloud.compute_v1.InstancesClient``.

    The client is injectable: anything with ``insert``/``get``/``delete`` taking the
    same keyword arguments (each returning an operation with ``result()``) works.
    """

    kind = "gcp"

    def __init__(self, spec: GcpNodes, client: Any | None = None) -> None:
        self.spec = spec
        if client is None:
            try:
                from google.cloud import compute_v1  # type: ignore[import-untyped,unused-ignore]
            except ImportError:
                raise ChiaUsageError(
                    "gcp_nodes needs google-cloud-compute: pip install google-cloud-compute"
                ) from None
            client = compute_v1.InstancesClient()
        self.client = client

    def _resource(self, name: str, cluster: str) -> dict[str, Any]:
        spec = self.spec
        return {
            "name": name,
            "machine_type": f"zones/{spec.zone}/machineTypes/{spec.machine_type}",
            "disks": [
                {
                    "boot": True,
                    "auto_delete": True,
                    "initialize_params": {"source_image": spec.source_image},
                }
            ],
            "network_interfaces": [
                {
                    "network": spec.network,
                    "access_configs": [{"name": "External NAT", "type_": "ONE_TO_ONE_NAT"}],
                }
            ],
            "labels": {CLUSTER_TAG: cluster, **spec.labels},
        }

    def create(self, cluster: str) -> list[CloudInstance]:
        """Insert ``count`` instances named ``chia-<cluster>-<i>`` and read their ips."""
        spec = self.spec
        names = [f"chia-{cluster}-{i}" for i in range(1, spec.count + 1)]
        operations = [
            self.client.insert(
                project=spec.project, zone=spec.zone, instance_resource=self._resource(n, cluster)
            )
            for n in names
        ]
        for operation in operations:
            operation.result()
        created = []
        for index, name in enumerate(names, start=1):
            nic = self.client.get(project=spec.project, zone=spec.zone, instance=name)
            interface = nic.network_interfaces[0]
            ip = (
                interface.network_i_p
                if spec.use_private_ip
                else (interface.access_configs[0].nat_i_p)
            )
            created.append(
                CloudInstance(
                    provider=self.kind,
                    instance_id=name,
                    machine=_machine(self.kind, index, ip, spec.ssh_user, spec.cpus),
                    zone=spec.zone,
                )
            )
        return created

    def terminate(self, instances: list[CloudInstance]) -> None:
        """Delete the instances and wait for each operation."""
        operations = [
            self.client.delete(
                project=self.spec.project, zone=i.zone or self.spec.zone, instance=i.instance_id
            )
            for i in instances
            if i.provider == self.kind
        ]
        for operation in operations:
            operation.result()


def providers_for(config: ClusterConfig) -> list[CloudProvider]:
    """One provider per cloud section of the file."""
    providers: list[CloudProvider] = []
    if config.aws_nodes is not None:
        providers.append(AwsProvider(config.aws_nodes))
    if config.gcp_nodes is not None:
        providers.append(GcpProvider(config.gcp_nodes))
    return providers


def planned_cloud_machines(config: ClusterConfig) -> list[Machine]:
    """Placeholders (``<aws-1>``...) for a plan printed before any machine exists."""
    planned = []
    for kind, spec in (("aws", config.aws_nodes), ("gcp", config.gcp_nodes)):
        if spec is not None:
            planned += [
                _machine(kind, i, f"<{kind}-{i}>", spec.ssh_user, spec.cpus)
                for i in range(1, spec.count + 1)
            ]
    return planned


def cloud_machines(
    config: ClusterConfig,
    say: Callable[[str], None] = print,
    providers: list[CloudProvider] | None = None,
) -> list[CloudInstance]:
    """Create every cloud machine of the file (none when it has no cloud section)."""
    created: list[CloudInstance] = []
    for provider in providers_for(config) if providers is None else providers:
        instances = provider.create(config.cluster_name)
        say(f"{provider.kind}: created {', '.join(i.instance_id for i in instances)}")
        created += instances
    return created


def terminate_cloud(
    config: ClusterConfig,
    instances: list[CloudInstance],
    providers: list[CloudProvider] | None = None,
) -> None:
    """Terminate the cluster's cloud machines."""
    for provider in providers_for(config) if providers is None else providers:
        provider.terminate(instances)
