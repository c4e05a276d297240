"""Clusters: a YAML file of machines and logical workers, raised with ``chia up``.

* :mod:`chia.cluster.config` / :mod:`chia.cluster.loading`: the file, validated.
* :mod:`chia.cluster.plan`: workers placed on machines (least-loaded, pack, spread).
* :mod:`chia.cluster.lifecycle`: ``up``, ``up --add``, ``down``.
* :mod:`chia.cluster.containers`, :mod:`chia.cluster.cloud`, :mod:`chia.cluster.tunnels`.
* :mod:`chia.cluster.proxy`: Ray's CLI pinned to a cluster.
"""

from chia.cluster.config import ClusterConfig
from chia.cluster.loading import cluster_schema, load_cluster, parse_cluster

__all__ = ["ClusterConfig", "cluster_schema", "load_cluster", "parse_cluster"]
