from __future__ import annotations

import socket

import pytest

from chia.netaddr import free_port, is_local_address, is_loopback


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.4.5.6", "::1", "[::1]", "localhost", "LocalHost"]
)
def test_loopback_hosts(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.1", "example.org", "", "127.0.0.1.evil"])
def test_hosts_that_are_not_loopback(host):
    assert not is_loopback(host)


def test_this_machines_name_is_local_but_not_loopback():
    name = socket.gethostname()
    assert is_local_address(name) and is_local_address("127.0.0.1")
    assert not is_local_address("10.255.255.1")


def test_free_ports_are_never_handed_out_twice():
    ports = [free_port() for _ in range(300)]
    assert len(set(ports)) == len(ports)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", ports[-1]))  # and each was free
