"""One site runs both agents under real mpiexec (the mpich wheel); it kicks itself off."""

from __future__ import annotations

import json


def test_single_site_under_mpiexec(sites, redis):
    site = sites.start(
        "--system",
        "local",
        "--campaign",
        "federated-chat",
        "--run-id",
        "mpi-1",
        "--launcher",
        "mpiexec",
        "--exchange",
        "redis",
        "--exchange-url",
        redis.url(7),
        "--site",
        "cluster",
        "--agents",
        "agent-aurora,agent-crux",
    )
    assert site.wait(timeout=90) == 0, site.output
    assert "bootstrap dispatched" in site.output
    assert "with the mpiexec launcher" in site.output
    placement = json.loads((sites.runs_dir / "mpi-1" / "cluster" / "placement.json").read_text())
    assert placement["launcher"] == "mpiexec"
    ranks = {a["agent"]: a["rank"] for a in placement["agents"]}
    assert ranks == {"agent-aurora": 0, "agent-crux": 1}  # one agent per rank by default
    assert len({a["pid"] for a in placement["agents"]}) == 2
    assert (sites.runs_dir / "mpi-1" / "cluster" / "logs" / "mpiexec.log").is_file()


def test_packed_ranks_under_mpiexec(sites, redis):
    """--agents-per-process 2: one mpiexec rank hosts both agents (fewer imports, one pid)."""
    site = sites.start(
        "--system",
        "local",
        "--campaign",
        "federated-chat",
        "--run-id",
        "mpi-2",
        "--launcher",
        "mpiexec",
        "--exchange",
        "redis",
        "--exchange-url",
        redis.url(7),
        "--site",
        "cluster",
        "--agents",
        "agent-aurora,agent-crux",
        "--agents-per-process",
        "2",
    )
    assert site.wait(timeout=90) == 0, site.output
    placement = json.loads((sites.runs_dir / "mpi-2" / "cluster" / "placement.json").read_text())
    assert {a["rank"] for a in placement["agents"]} == {0}
    assert len({a["pid"] for a in placement["agents"]}) == 1
