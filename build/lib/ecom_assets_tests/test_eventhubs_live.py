"""`ecom simulate --to eventhubs` and `ecom ingest` against a real Event Hubs broker: Microsoft's emulator,
which .github/workflows/eventhubs-live.yml starts. Skipped (one line) where no emulator is configured.

Two ingest processes share the hub's partitions through the blob checkpoint store; one is killed with
SIGKILL while batches are landing and started again. Whatever was landed twice, Silver must hold every
event exactly once: the same event ids as the same simulation written straight into a landing zone.
"""

import datetime as dt
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from ecom_assets.events.landing import landing_dir, list_landing_files, read_landing_lines
from ecom_assets.events.simulator import generate, simulate
from ecom_assets.operations.materialize import materialize_range
from ecom_assets.storage.lake import Lake
from ecom_assets_tests.processes import background_process

pytestmark = pytest.mark.eventhubs_live

ECOM = Path(sys.executable).with_name("ecom")
AMQP_PORT = 5672
CUSTOMERS = 150
LANDING_TIMEOUT_SECONDS = 480  # a killed consumer's partitions wait for their ownership to expire


@pytest.fixture
def eventhub() -> str:
    """The emulator's connection string, once its AMQP port answers."""
    connection = os.environ.get("ECOM_EVENTHUB_CONNECTION_STRING")
    if not connection:
        pytest.skip("no Event Hubs emulator: set ECOM_EVENTHUB_CONNECTION_STRING (eventhubs-live.yml does)")
    match = re.search(r"Endpoint=sb://([^;/:]+)", connection)
    host = match[1] if match else "localhost"
    try:
        socket.create_connection((host, AMQP_PORT), timeout=5).close()
    except OSError:
        pytest.fail(f"ECOM_EVENTHUB_CONNECTION_STRING is set, but nothing listens on {host}:{AMQP_PORT}")
    return connection


def landed_lines(lake: Lake, days: list[dt.date]) -> list[str]:
    paths = [path for day in days for path in list_landing_files(lake, day)]
    return [text for path in paths for text in read_landing_lines(lake, path)]


def file_under(lake: Lake, day: dt.date, arrival_days: list[dt.date]) -> None:
    """Copy the landing files of ``arrival_days`` under ``day``: daily partitions end yesterday, so
    events that arrive today are materialised as yesterday's arrivals."""
    for arrival in arrival_days:
        for path in list_landing_files(lake, arrival):
            lake.write_bytes(f"{landing_dir(day)}/{path.rsplit('/', 1)[-1]}", lake.read_bytes(path))


def wait_until_landed(lake: Lake, expected: set[str], days: list[dt.date], logs: list[Path]) -> None:
    deadline = time.monotonic() + LANDING_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        missing = expected - set(landed_lines(lake, days))
        if not missing:
            return
        time.sleep(2)
    told = "\n".join(log.read_text()[-1500:] for log in logs)
    pytest.fail(f"{len(missing)} of {len(expected)} events never landed:\n{told}")


def send_to_the_hub(day: dt.date, seed: int) -> None:
    simulate_arguments = ["--start", day.isoformat(), "--days", "1", "--customers", str(CUSTOMERS)]
    sent = subprocess.run(
        [str(ECOM), "simulate", *simulate_arguments, "--seed", str(seed), "--to", "eventhubs"],
        env=os.environ,
        capture_output=True,
        text=True,
    )
    assert sent.returncode == 0, sent.stderr[-3000:]


def ingest_killing_one(lake: Lake, expected: set[str], days: list[dt.date], logs_dir: Path) -> None:
    """Two `ecom ingest` processes; the first is SIGKILLed once batches land, then started again."""
    ingest, environment = [str(ECOM), "ingest"], dict(os.environ)
    logs = [logs_dir / f"ingest-{name}.log" for name in ("first", "second", "restarted")]
    with (
        background_process(ingest, logs[0], environment) as first,
        background_process(ingest, logs[1], environment),
    ):
        deadline = time.monotonic() + 120
        while not landed_lines(lake, days):
            assert first.poll() is None and time.monotonic() < deadline, logs[0].read_text()[-3000:]
            time.sleep(0.2)
        first.send_signal(signal.SIGKILL)
        first.wait()
        with background_process(ingest, logs[2], environment):
            wait_until_landed(lake, expected, days, logs)


def silver_event_ids(monkeypatch, lake_uri: str, day: dt.date) -> list[str]:
    from ecom_assets.settings import get_settings

    monkeypatch.setenv("ECOM_LAKE_URI", lake_uri)
    get_settings.cache_clear()
    materialize_range(day, day, selection="group:bronze or group:silver")
    return sorted(Lake(lake_uri).read_table("silver/events")["event_id"])


def test_two_ingest_processes_and_a_sigkill_leave_every_event_in_silver_once(
    eventhub, azure_lake, tmp_path, monkeypatch
):
    today = dt.datetime.now(dt.UTC).date()
    yesterday, arrivals = today - dt.timedelta(days=1), [today, today + dt.timedelta(days=1)]
    seed = random.randrange(1_000_000)  # events of earlier runs on the same emulator have other ids
    monkeypatch.setenv("ECOM_EVENTHUB_CHECKPOINT_CONTAINER", f"checkpoints-{uuid.uuid4().hex[:12]}")
    monkeypatch.setenv("ECOM_EVENTHUB_BATCH_EVENTS", "25")  # many small batches: the kill lands mid-stream
    monkeypatch.setenv("ECOM_EVENTHUB_BATCH_SECONDS", "1")
    simulated = list(generate(yesterday, 1, customers=CUSTOMERS, seed=seed))
    expected = {line for _, lines in simulated for line in lines}

    send_to_the_hub(yesterday, seed)
    ingest_killing_one(azure_lake, expected, arrivals, tmp_path)

    file_under(azure_lake, yesterday, arrivals)
    oracle = Lake(str(tmp_path / "oracle"))
    simulate(oracle, start=yesterday, days=1, customers=CUSTOMERS, seed=seed, progress=False)
    file_under(oracle, yesterday, [arrival for arrival, _ in simulated if arrival != yesterday])
    through_eventhubs = silver_event_ids(monkeypatch, azure_lake.uri, yesterday)
    straight = silver_event_ids(monkeypatch, oracle.uri, yesterday)

    assert len(landed_lines(azure_lake, arrivals)) >= len(expected)
    assert len(through_eventhubs) == len(set(through_eventhubs)), "an event is in Silver twice"
    # (a reused emulator may still hold events of earlier runs: other seeds, other ids)
    assert straight and set(straight) <= set(through_eventhubs), "Silver lacks events that were sent"
