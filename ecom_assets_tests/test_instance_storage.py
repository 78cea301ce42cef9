"""The embedded instance's batching SQLite event log records exactly what Dagster's own storage records,
event by event: a range run read back through the instance (and by a new process, as the webserver
would) is the same whether its events were stored in batches, one by one, or one by one after a failed
batch. The tests also pin the Dagster internals the batching rests on: if Dagster stops handing these
events to ``store_event_batch``, or ``store_event`` stops going through the connections a batch holds,
they fail."""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from functools import partial
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.data_version import DATA_VERSION_TAG
from dagster._core.events import DagsterEventType
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._serdes import serialize_value

from ecom_assets.definitions import defs
from ecom_assets.defs.tables import asset_key
from ecom_assets.events.simulator import simulate
from ecom_assets.instance.storage import BatchedSqliteEventLogStorage
from ecom_assets.keys import BRONZE_EVENTS, FACT_EVENTS, SILVER_EVENTS, SILVER_EVENTS_REJECTED
from ecom_assets.operations.materialize import materialize_range
from ecom_assets.settings import get_settings
from ecom_assets.storage.lake import Lake

START, END = dt.date(2026, 10, 1), dt.date(2026, 10, 3)
SELECTION = "group:bronze or group:silver or key:gold/fact_events"
KEYS = (BRONZE_EVENTS, SILVER_EVENTS, SILVER_EVENTS_REJECTED, FACT_EVENTS)
# A batch of planned events per run, and one of materialisations per asset: Bronze and the rejects over the
# range and its three late days (2 * 6), Silver and the facts over the range with six planned checks
# (2 * 3 + 6); then 6 materialisations each of Bronze and the rejects, 3 each of Silver and the facts.
BATCHES = {
    (DagsterEventType.ASSET_MATERIALIZATION_PLANNED, 12): 2,
    (DagsterEventType.ASSET_MATERIALIZATION, 6): 2,
    (DagsterEventType.ASSET_MATERIALIZATION, 3): 2,
}
PROJECT_CONFIG = Path(__file__).resolve().parents[1] / "dagster.yaml"


def run_range(
    home: Path, lake_root: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int
) -> dg.DagsterInstance:
    """The bench's selection over three days, in a new instance at ``home`` on a new simulated lake."""
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("ECOM_LAKE_URI", str(lake_root))
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", str(batch_size))
    get_settings.cache_clear()
    simulate(Lake(str(lake_root)), START, days=3, customers=40, seed=5, progress=False)
    instance = dg.DagsterInstance.get()
    materialize_range(START, END, selection=SELECTION, instance=instance)
    return instance


def recorded(instance: dg.DagsterInstance) -> str:
    """What the UI, sensors and ``ecom`` read back, with run ids and the lake's path made comparable."""
    graph = defs.resolve_asset_graph()
    runs = sorted(instance.get_runs(), key=lambda run: run.tags["ecom/step"])
    seen: dict = {
        "runs": [(run.tags["ecom/step"], run.status) for run in runs],
        "run_stats": [instance.get_run_stats(run.run_id) for run in runs],
        "run_events": [
            [
                (entry.dagster_event_type.value, entry.dagster_event.partition)
                for entry in instance.all_logs(run.run_id)
                if entry.dagster_event and entry.dagster_event_type
            ]
            for run in runs
        ],
    }
    for key in KEYS:
        akey = asset_key(key)
        partitions_def = graph.get(akey).partitions_def
        days = partitions_def.get_partition_keys_in_range(
            dg.PartitionKeyRange((START - dt.timedelta(days=1)).isoformat(), END.isoformat())
        )
        entry = instance.get_asset_records([akey])[0].asset_entry
        seen[key] = {
            "materialized": sorted(instance.get_materialized_partitions(akey)),
            "status": {
                day: status and status.value
                for day, status in (
                    instance.get_status_by_partition(akey, days, partitions_def) or {}
                ).items()
            },
            "planned_by_partition": [
                info and (info.storage_id, info.run_id)
                for info in map(partial(instance.get_latest_planned_materialization_info, akey), days)
            ],
            "latest_by_partition": instance.event_log_storage.get_latest_storage_id_by_partition(
                akey, DagsterEventType.ASSET_MATERIALIZATION
            ),
            "data_versions": instance.event_log_storage.get_latest_tags_by_partition(
                akey, DagsterEventType.ASSET_MATERIALIZATION, [DATA_VERSION_TAG]
            ),
            "entry": (
                entry.last_materialization_record,
                entry.last_run_id,
                entry.last_planned_materialization_storage_id,
            ),
            "materializations": [
                (record.storage_id, record.partition_key, record.event_log_entry)
                for record in instance.fetch_materializations(akey, limit=1000, ascending=True).records
            ],
            "planned": [
                (record.storage_id, record.partition_key, record.event_log_entry)
                for record in instance.get_event_records(
                    dg.EventRecordsFilter(DagsterEventType.ASSET_MATERIALIZATION_PLANNED, asset_key=akey),
                    ascending=True,
                )
            ],
        }
    for check_key in graph.asset_check_keys:
        seen[check_key.to_user_string()] = [
            (record.id, record.run_id, record.status.value, record.partition, record.event)
            for record in instance.event_log_storage.get_asset_check_execution_history(check_key, limit=10)
        ]
    text = serialize_value(seen)  # type: ignore[arg-type]
    for number, run in enumerate(runs):
        text = text.replace(run.run_id, f"run-{number}")
    text = re.sub(r'"(\w*timestamp|\w+_time)": [0-9.e+-]+', r'"\1": 0', text)
    text = re.sub(r'"pid": \d+', '"pid": 0', text)
    # Data versions hash the run: numbered in order of appearance, so equal versions stay equal.
    versions = dict.fromkeys(re.findall(r"\b[0-9a-f]{64}\b", text))
    for number, version in enumerate(versions):
        text = text.replace(version, f"version-{number}")
    # Previews show the first rows the engine wrote, in no fixed order.
    text = re.sub(r'"md_str": "(?:[^"\\]|\\.)*"', '"md_str": "<preview>"', text)
    return text.replace(str(Path(get_settings().lake_uri)), "<lake>")


# A new process opens the instance from DAGSTER_HOME's dagster.yaml, as the webserver and the daemon do:
# which storage it gets, whether that turned batching on, and what it reads back.
READER = """
import json, os
import dagster as dg
instance = dg.DagsterInstance.get()
batch_size = os.environ.get("DAGSTER_EVENT_BATCH_SIZE")
from ecom_assets_tests.test_instance_storage import recorded
print(json.dumps([type(instance.event_log_storage).__name__, batch_size, recorded(instance)]))
"""


def recorded_in_new_process(home: Path, lake_root: Path) -> list[str]:
    environment = {**os.environ, "DAGSTER_HOME": str(home), "ECOM_LAKE_URI": str(lake_root)}
    environment.pop("DAGSTER_EVENT_BATCH_SIZE")
    reader = subprocess.run([sys.executable, "-c", READER], env=environment, capture_output=True, text=True)
    assert reader.returncode == 0, reader.stderr
    return json.loads(reader.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def one_by_one(tmp_path_factory) -> str:
    """The reference: Dagster's own SQLite storage, every event stored on its own."""
    home = tmp_path_factory.mktemp("stock_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with pytest.MonkeyPatch.context() as monkeypatch:
        instance = run_range(home, tmp_path_factory.mktemp("stock") / "lake", monkeypatch, batch_size=0)
        assert type(instance.event_log_storage) is SqliteEventLogStorage
        seen = recorded(instance)
    get_settings.cache_clear()
    return seen


@pytest.fixture
def batched_home(tmp_path) -> Path:
    home = tmp_path / "batched_home"
    home.mkdir()
    shutil.copy(PROJECT_CONFIG, home / "dagster.yaml")
    return home


def spy_on_batches(monkeypatch) -> list[tuple[DagsterEventType, int, int]]:
    """Each batch stored: its events' type, how many, and how many database connections it opened."""
    batches: list[tuple[DagsterEventType, int, int]] = []
    opened = Counter[str]()
    connect, store_event_batch = (
        SqliteEventLogStorage._connect,
        BatchedSqliteEventLogStorage.store_event_batch,
    )

    def counted_connect(self, shard):
        opened[shard] += 1
        return connect(self, shard)

    def counted_batch(self, events):
        before = opened.total()
        try:
            store_event_batch(self, events)
        finally:
            batches.append((events[0].dagster_event_type, len(events), opened.total() - before))

    monkeypatch.setattr(SqliteEventLogStorage, "_connect", counted_connect)
    monkeypatch.setattr(BatchedSqliteEventLogStorage, "store_event_batch", counted_batch)
    return batches


def assert_batched(batches: list[tuple[DagsterEventType, int, int]]) -> None:
    assert Counter((event_type, size) for event_type, size, _ in batches) == BATCHES, batches
    assert {opened for *_, opened in batches} == {2}, "a batch opens one run-shard and one index connection"


def test_a_batched_range_run_records_what_one_by_one_writes_record(
    one_by_one, batched_home, tmp_path, monkeypatch
):
    batches = spy_on_batches(monkeypatch)
    instance = run_range(batched_home, tmp_path / "lake", monkeypatch, batch_size=1000)

    assert type(instance.event_log_storage) is BatchedSqliteEventLogStorage
    assert_batched(batches)
    assert recorded(instance) == one_by_one

    assert recorded_in_new_process(batched_home, tmp_path / "lake") == [
        "BatchedSqliteEventLogStorage",
        "1000",
        one_by_one,
    ]


def test_a_failing_batch_is_rolled_back_and_its_events_stored_one_by_one(
    one_by_one, batched_home, tmp_path, monkeypatch, capfd
):
    batches = spy_on_batches(monkeypatch)
    store_asset_event = SqliteEventLogStorage._store_asset_event
    failures = []

    def fails_inside_every_batch_once(self, conn, event, event_id):
        # The range's last day comes after others in both batches: rows were written before it fails.
        in_batch = bool(getattr(self._batch, "connections", None))
        if in_batch and len(failures) < 2 and event.dagster_event.partition == END.isoformat():
            failures.append(event.dagster_event_type)
            raise OSError("disk I/O error")
        store_asset_event(self, conn, event, event_id)

    monkeypatch.setattr(SqliteEventLogStorage, "_store_asset_event", fails_inside_every_batch_once)
    instance = run_range(batched_home, tmp_path / "lake", monkeypatch, batch_size=1000)

    assert failures == [
        DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
        DagsterEventType.ASSET_MATERIALIZATION,
    ]
    assert capfd.readouterr().err.count("Falling back to storing multiple single-event storage requests") == 2
    assert_batched(batches)
    assert recorded(instance) == one_by_one
