"""Azurite, the Azure Storage emulator, as pytest fixtures: the lake on real Blob storage, offline.

``azurite`` starts ``node_modules/.bin/azurite-blob`` once per test process on a free loopback port, with
an account of its own whose key is random per run (so a test can look for that key where it must not
be), and always stops it. ``azure_lake`` points ``ECOM_LAKE_URI`` and the Azure variables of one test at
a fresh container on it, exactly as a user would configure a real account.
"""

import base64
import os
import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from azure.core.credentials import AzureNamedKeyCredential
from azure.storage.blob import BlobServiceClient

from ecom_assets.storage.lake import Lake
from ecom_assets_tests.processes import background_process

ROOT = Path(__file__).resolve().parents[1]
AZURITE = ROOT / "node_modules" / ".bin" / "azurite-blob"
ACCOUNT = "ecomtest"
FLAGS = ("--inMemoryPersistence", "--skipApiVersionCheck", "--loose", "--disableTelemetry")


@dataclass(frozen=True)
class Azurite:
    blob_url: str  # http://127.0.0.1:<port>, the form of AZURITE_BLOB_STORAGE_URL
    account: str
    key: str

    def service(self) -> BlobServiceClient:
        credential = AzureNamedKeyCredential(self.account, self.key)
        return BlobServiceClient(f"{self.blob_url}/{self.account}", credential=credential)

    def environment(self, container: str, prefix: str = "lake") -> dict[str, str]:
        """What a user exports to run the project on this emulator."""
        return {
            "ECOM_LAKE_URI": f"abfss://{container}@{self.account}.dfs.core.windows.net/{prefix}",
            "AZURE_STORAGE_USE_EMULATOR": "true",
            "AZURITE_BLOB_STORAGE_URL": self.blob_url,
            "AZURE_STORAGE_ACCOUNT_KEY": self.key,
        }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(process: subprocess.Popen, port: int, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"azurite-blob exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:  # not listening yet
            time.sleep(0.05)
    pytest.fail(f"azurite-blob not listening after {timeout}s: {log.read_text()[-2000:]}")


@contextmanager
def running_azurite(port: int, accounts: str, log: Path, *flags: str) -> Iterator[subprocess.Popen]:
    """azurite-blob on 127.0.0.1:``port`` with ``accounts`` (``name:key``), stopped when the block ends."""
    if not AZURITE.exists():
        pytest.fail(f"{AZURITE} is missing: run `npm ci` in {ROOT} (make test does)")
    command = [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port), *FLAGS, *flags]
    with background_process(command, log, {**os.environ, "AZURITE_ACCOUNTS": accounts}) as process:
        _wait_until_listening(process, port, log)
        yield process


@contextmanager
def running_emulator(log_dir: Path) -> Iterator[Azurite]:
    """Azurite on a free loopback port with an account of its own, answering, stopped on the way out."""
    port = free_port()
    azurite = Azurite(f"http://127.0.0.1:{port}", ACCOUNT, base64.b64encode(secrets.token_bytes(64)).decode())
    with running_azurite(port, f"{azurite.account}:{azurite.key}", log_dir / "azurite.log"):
        azurite.service().get_service_properties()  # answers, and accepts the account's key
        yield azurite


@pytest.fixture(scope="session")
def azurite(tmp_path_factory) -> Iterator[Azurite]:
    with running_emulator(tmp_path_factory.mktemp("azurite")) as emulator:
        yield emulator


@pytest.fixture
def azure_lake(azurite, monkeypatch) -> Lake:
    """This test's lake in a new container on Azurite, configured through the environment alone."""
    from ecom_assets.settings import get_settings

    container = f"lake-{uuid.uuid4().hex[:12]}"
    azurite.service().create_container(container)
    for name, value in azurite.environment(container).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    return Lake.from_settings()
