"""A storage outage on demand: a TCP proxy process in front of Azurite that a test cuts and restores.

Cutting kills the proxy, which closes every open connection, so clients get resets and refusals as from
an unreachable storage account; Azurite keeps its data, and restoring listens on the same port again.
The proxy is a process of its own: in the test's process, its threads would wait on the GIL that a
client call into delta-rs holds.
"""

from __future__ import annotations

import dataclasses
import socket
import subprocess
import sys
import threading
import uuid

import pytest

from ecom_assets.settings import get_settings
from ecom_assets_tests.azurite import Azurite, _wait_until_listening, free_port


class OutageProxy:
    def __init__(self, azurite: Azurite, log_dir):
        self.target_port = azurite.blob_url.rsplit(":", 1)[1]
        self.port = free_port()
        self.azurite = dataclasses.replace(azurite, blob_url=f"http://127.0.0.1:{self.port}")
        self.log = log_dir / "outage-proxy.log"
        self.process: subprocess.Popen | None = None

    def restore(self) -> None:
        command = [sys.executable, "-m", "ecom_assets_tests.outage_proxy", str(self.port), self.target_port]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _wait_until_listening(self.process, self.port, self.log)

    def cut(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:  # the other side closed the connection
        pass


def serve(port: int, target_port: int) -> None:
    listener = socket.create_server(("127.0.0.1", port), reuse_port=True)
    while True:
        client, _ = listener.accept()
        upstream = socket.create_connection(("127.0.0.1", target_port))
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pump, args=(source, sink), daemon=True).start()


@pytest.fixture
def outage(azurite, monkeypatch, tmp_path):
    """This test's lake on Azurite, reached through a proxy that the test cuts and restores."""
    proxy = OutageProxy(azurite, tmp_path)
    proxy.restore()
    container = f"lake-{uuid.uuid4().hex[:12]}"
    azurite.service().create_container(container)
    for name, value in proxy.azurite.environment(container).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield proxy
    proxy.cut()


if __name__ == "__main__":
    serve(int(sys.argv[1]), int(sys.argv[2]))
