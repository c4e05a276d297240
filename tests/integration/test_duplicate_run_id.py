"""A second site with the same run id and agent fails fast while the first is live."""

from __future__ import annotations


def test_same_run_id_twice_is_refused(sites, redis):
    common = ["--system", "local", "--campaign", "federated-chat", "--run-id", "dup-1"]
    common += ["--exchange", "redis", "--exchange-url", redis.url(5), "--no-bootstrap"]
    first = sites.start(*common, "--site", "aurora", "--agents", "agent-aurora", name="first")
    first.wait_for_line("waiting for peers")

    second = sites.start(*common, "--site", "aurora2", "--agents", "agent-aurora", name="second")
    assert second.wait(timeout=60) == 2, second.output
    assert "another run with the same run id is active?" in second.output
    assert "dup-1" in second.output and "agent-aurora" in second.output
    assert first.proc.poll() is None  # the live run is untouched
