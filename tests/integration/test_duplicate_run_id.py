"""A second site with the same run id and agent fails fast while the first is live."""

from __future__ import annotations

import pytest

from chia.testing.sites import CliExchange


@pytest.fixture(params=["redis", "push", "redis-fast"])
def dup_exchange(request, redis, push_server):
    if request.param == "push":
        return CliExchange("push", push_server.url)
    return CliExchange(request.param, redis.url(5))


def test_same_run_id_twice_is_refused(sites, dup_exchange):
    run_id = f"dup-{dup_exchange.kind}"
    common = ["--system", "local", "--campaign", "federated-chat", "--run-id", run_id]
    common += [*dup_exchange.args, "--no-bootstrap"]
    first = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="first")
    first.wait_for_line("waiting for peers")

    second = sites.start(*common, "--site", "aurora2", "--agents", "agent-aurora", name="second")
    assert second.wait(timeout=60) == 2, second.output
    assert "another run with the same run id is active?" in second.output
    assert run_id in second.output and "agent-aurora" in second.output
    assert first.proc.poll() is None  # the live run is untouched
