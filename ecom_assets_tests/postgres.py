"""A real PostgreSQL server as pytest fixtures, and Dagster instances on it configured by deploy/dagster.yaml.

``postgres`` runs Debian's server binaries (``apt-get install postgresql``; ``.ci/run`` does) once per test
process: ``initdb`` into a temporary directory, a free loopback port, password authentication with a
random password, always stopped. PostgreSQL refuses to run as root, so as root the server runs as
``nobody``. ``postgres_dagster_home`` gives one test its own database and a ``DAGSTER_HOME`` holding
``deploy/dagster.yaml``, connected through the ``DAGSTER_PG_*`` variables alone, as a deployment is.
"""

import os
import secrets
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest

from ecom_assets_tests.azurite import free_port

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SERVER_USER = "nobody"
# A throwaway server: durability only costs time here.
FAST_AND_LOOSE = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str

    def connect(self, database: str = "postgres"):
        return psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=database
        )

    def query(self, database: str, sql: str, parameters: tuple = ()) -> list[tuple]:
        connection = self.connect(database)
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, parameters)
                return cursor.fetchall()
        finally:
            connection.close()

    def create_database(self) -> str:
        name = f"dagster_{uuid.uuid4().hex[:12]}"
        connection = self.connect()
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"CREATE DATABASE {name}")
        finally:
            connection.close()
        return name

    def environment(self, database: str) -> dict[str, str]:
        """What a deployment exports for deploy/dagster.yaml."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": database,
        }


def server_binaries() -> Path | None:
    """The bin directory of the newest Debian PostgreSQL server installed, if any."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parts[-3]))
    return found[-1].parent if found else None


def _run_as_server_user(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    as_root = os.geteuid() == 0
    return subprocess.run(
        command,
        user=SERVER_USER if as_root else None,
        group="nogroup" if as_root else None,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


def _checked(result: subprocess.CompletedProcess, what: str, log: Path | None = None) -> None:
    if result.returncode != 0:
        told = log.read_text()[-2000:] if log and log.exists() else ""
        pytest.fail(f"{what} exited with {result.returncode}: {result.stdout}{result.stderr}{told}")


def _init_cluster(binaries: Path, cluster: Path, server: Postgres) -> Path:
    """A new data directory whose superuser is ``server.user`` with its password; returns the directory."""
    password = cluster / "password"
    password.write_text(server.password)
    if os.geteuid() == 0:
        for path in (cluster, password):
            shutil.chown(path, SERVER_USER, "nogroup")
    data = cluster / "data"
    initdb = [str(binaries / "initdb"), "-D", str(data), "-U", server.user, f"--pwfile={password}"]
    initdb += ["--auth-host=scram-sha-256", "--auth-local=scram-sha-256", "--encoding=UTF8", "--no-sync"]
    _checked(_run_as_server_user(initdb), "initdb")
    return data


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    binaries = server_binaries()
    if binaries is None:
        reason = "PostgreSQL server binaries missing: apt-get install postgresql (.ci/run does)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    # Not under pytest's tmp_path: its parents are private to root, and the server runs as nobody.
    cluster = Path(tempfile.mkdtemp(prefix="ecom-postgres-"))
    server = Postgres("127.0.0.1", free_port(), "dagster", secrets.token_urlsafe(24))
    log = cluster / "server.log"
    pg_ctl = [str(binaries / "pg_ctl"), "-D", str(_init_cluster(binaries, cluster, server)), "-l", str(log)]
    options = f"-h {server.host} -p {server.port} -k {cluster} " + " ".join(FAST_AND_LOOSE)
    try:
        # -w: pg_ctl returns once the server accepts connections
        _checked(_run_as_server_user([*pg_ctl, "-o", options, "-w", "-t", "60", "start"]), "pg_ctl", log)
        server.connect().close()  # answers on TCP, and accepts the password
        yield server
    finally:
        _run_as_server_user([*pg_ctl, "-m", "fast", "-w", "stop"])
        shutil.rmtree(cluster, ignore_errors=True)


@pytest.fixture
def postgres_dagster_home(postgres, tmp_path, monkeypatch) -> Path:
    """This test's DAGSTER_HOME: deploy/dagster.yaml on a fresh database, set in the environment, with
    events stored in batches as the deploy images store them."""
    home = tmp_path / "dagster_home_postgres"
    home.mkdir()
    shutil.copy(DEPLOY / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")  # as deploy/dagster.Dockerfile sets it
    for name, value in postgres.environment(postgres.create_database()).items():
        monkeypatch.setenv(name, value)
    return home
