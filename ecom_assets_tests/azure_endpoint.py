"""Azurite at a real Azure name: ``https://<account>.blob.core.windows.net`` answered on this machine.

Some clients (dagster-azure's compute log manager) always build that address and cannot be pointed at an
emulator's URL. ``azure_blob_endpoint`` serves it anyway: an Azurite speaking HTTPS with a certificate
made for ``*.blob.core.windows.net``, trusted through ``REQUESTS_CA_BUNDLE``, and an HTTP CONNECT proxy on
loopback (``HTTPS_PROXY``) that tunnels every connection for that domain to it. Clients resolve no name
and nothing leaves the machine; the proxy refuses any other destination.
"""

import base64
import datetime as dt
import secrets
import selectors
import socket
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ecom_assets_tests.azurite import free_port, running_azurite

DOMAIN = "blob.core.windows.net"


@dataclass(frozen=True)
class AzureBlobEndpoint:
    account: str
    key: str


def write_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``*.blob.core.windows.net`` and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"*.{DOMAIN}")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(f"*.{DOMAIN}")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "blob-cert.pem", directory / "blob-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class _Tunnel(socketserver.BaseRequestHandler):
    """``CONNECT <account>.blob.core.windows.net:443`` becomes a byte pipe to the local Azurite."""

    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.request.recv(4096)
            if not chunk:
                return
            head += chunk
        method, target, *_ = head.split(b"\r\n", 1)[0].decode().split()
        if method != "CONNECT" or not target.endswith(f".{DOMAIN}:443"):
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\n\r\n")
            return
        with socket.create_connection(("127.0.0.1", self.server.target_port)) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _pipe(self.request, upstream)


def _pipe(client: socket.socket, upstream: socket.socket) -> None:
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        while True:
            for ready, _ in selector.select(timeout=30):
                data = ready.fileobj.recv(65536)
                if not data:
                    return
                ready.data.sendall(data)


class _TunnelServer(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self, target_port: int):
        super().__init__(("127.0.0.1", 0), _Tunnel)
        self.target_port = target_port


@pytest.fixture
def azure_blob_endpoint(tmp_path, monkeypatch) -> Iterator[AzureBlobEndpoint]:
    """Account ``ecomlogs`` at https://ecomlogs.blob.core.windows.net for this test, on Azurite."""
    endpoint = AzureBlobEndpoint("ecomlogs", base64.b64encode(secrets.token_bytes(64)).decode())
    cert, key = write_certificate(tmp_path)
    port = free_port()
    tls = ("--cert", str(cert), "--key", str(key))
    with running_azurite(port, f"{endpoint.account}:{endpoint.key}", tmp_path / "azurite-tls.log", *tls):
        proxy = _TunnelServer(port)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        try:
            monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
            monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert))
            for name in ("NO_PROXY", "no_proxy"):
                monkeypatch.delenv(name, raising=False)
            yield endpoint
        finally:
            proxy.shutdown()
            proxy.server_close()
