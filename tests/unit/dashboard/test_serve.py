from __future__ import annotations

import json
import socket
import urllib.request
from urllib.parse import urlparse

from chia.dashboard.serve import DashboardServer


def test_binds_loopback_on_a_free_port_and_frees_it(two_site_run):
    with DashboardServer(two_site_run, "run-1") as server:
        url = urlparse(server.url)
        assert url.hostname == "127.0.0.1" and url.port
        with urllib.request.urlopen(server.url + "api/run", timeout=5) as response:
            assert json.load(response)["run_id"] == "run-1"
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as any server would
        sock.bind(("127.0.0.1", url.port))  # released on exit


def test_two_servers_get_different_ports(two_site_run):
    with (
        DashboardServer(two_site_run, "run-1") as one,
        DashboardServer(two_site_run, "run-1") as two,
    ):
        assert one.url != two.url
