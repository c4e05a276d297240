"""The push exchange over TLS and through a real HTTP proxy (tinyproxy, CONNECT only).

The certificate is a throwaway self-signed one made here; the proxy is Debian's tinyproxy
on loopback, allowed to CONNECT only to the exchange's port, as a compute node's login
proxy is. Its log proves each connection went through it.
"""

from __future__ import annotations

import datetime
import ipaddress
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from academy.identifier import UserId

from chia.errors import ChiaUsageError
from chia.exchange import open_factory, user_client
from chia.exchange.push.client import PushExchangeError
from chia.exchange.push.dial import CA_FILE_ENV, env_proxy
from chia.exchange.push.process import PushServer
from chia.exchange.settings import TOKEN_ENV
from chia.processes import stop_process
from chia.testing import free_port

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY", "no_proxy")


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (PEM files)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "chia test exchange")])
    now = datetime.datetime.now(datetime.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[PushServer, Path]]:
    cert, key = self_signed(tmp_path)
    with PushServer(tls_cert=cert, tls_key=key, workdir=tmp_path / "push") as server:
        yield server, cert


def start_proxy(workdir: Path, connect_ports: list[int]) -> tuple[subprocess.Popen[bytes], str]:
    """tinyproxy on loopback, CONNECT to ``connect_ports`` only; returns it and its URL."""
    binary = shutil.which("tinyproxy")
    if binary is None:
        pytest.skip("tinyproxy is not installed (bash scripts/system-deps.sh)")
    port = free_port()
    conf = workdir / "tinyproxy.conf"
    lines = [f"Port {port}", "Listen 127.0.0.1", "Allow 127.0.0.1", "LogLevel Connect"]
    conf.write_text("\n".join(lines + [f"ConnectPort {p}" for p in connect_ports]) + "\n")
    log = (workdir / "tinyproxy.log").open("wb")
    proc = subprocess.Popen([binary, "-d", "-c", str(conf)], stdout=log, stderr=log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return proc, f"http://127.0.0.1:{port}"
        time.sleep(0.05)
    stop_process(proc, 2)
    raise RuntimeError(f"tinyproxy did not listen: {(workdir / 'tinyproxy.log').read_text()}")


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


async def test_tls_needs_the_ca_file_then_works(
    tls_server: tuple[PushServer, Path], no_proxy_env: pytest.MonkeyPatch
) -> None:
    server, cert = tls_server
    assert server.url.startswith("wss://127.0.0.1:")
    no_proxy_env.delenv(CA_FILE_ENV, raising=False)
    with pytest.raises(PushExchangeError, match=rf"does not trust.*\${CA_FILE_ENV}"):
        async with user_client(open_factory(server.settings())):
            pass
    no_proxy_env.setenv(CA_FILE_ENV, str(cert))
    async with user_client(open_factory(server.settings())) as client:
        assert await client.discover("nothing.Here") == ()


@pytest.mark.parametrize("scheme", ["ws", "wss"])
async def test_the_client_tunnels_through_the_proxy_with_connect(
    scheme: str, tmp_path: Path, no_proxy_env: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path)
    tls = {"tls_cert": cert, "tls_key": key} if scheme == "wss" else {}
    with PushServer(workdir=tmp_path / "push", **tls) as server:  # type: ignore[arg-type]
        port = int(server.url.rsplit(":", 1)[1])
        proc, proxy = start_proxy(tmp_path, [port])
        try:
            for name in PROXY_VARS[:4]:
                no_proxy_env.setenv(name, proxy)
            no_proxy_env.setenv(CA_FILE_ENV, str(cert))
            assert env_proxy(server.url) == proxy
            async with user_client(open_factory(server.settings())) as client:
                assert await client.discover("nothing.Here") == ()
            log = (tmp_path / "tinyproxy.log").read_text(errors="replace")
            assert f"CONNECT 127.0.0.1:{port} HTTP/1.1" in log, log
            # NO_PROXY is honoured: the same client connects directly.
            no_proxy_env.setenv("NO_PROXY", "127.0.0.1")
            assert env_proxy(server.url) is None
        finally:
            stop_process(proc, 2)


async def test_a_proxy_refusing_the_port_is_a_named_error(
    tmp_path: Path, no_proxy_env: pytest.MonkeyPatch
) -> None:
    from chia.exchange.push.client import PushExchangeFactory

    with PushServer(workdir=tmp_path / "push") as server:
        proc, proxy = start_proxy(tmp_path, [1])  # CONNECT allowed to port 1 only
        try:
            no_proxy_env.setenv("HTTP_PROXY", proxy)
            factory = PushExchangeFactory(server.url, connect_timeout_s=5)
            with pytest.raises(OSError, match=r"refused CONNECT 127\.0\.0\.1.*403"):
                await factory._open_socket(UserId.new(name="probe"), "user", True)
        finally:
            stop_process(proc, 2)


def test_a_non_loopback_bind_needs_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ChiaUsageError, match="without a shared token"):
        PushServer(host="0.0.0.0")
