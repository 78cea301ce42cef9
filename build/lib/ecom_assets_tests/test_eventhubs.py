"""Event Hubs ingestion offline: real ``EventData`` as the broker delivers it, the real blob checkpoint store
on Azurite, the real ``PartitionContext``; only the AMQP receive loop is replaced by a few lines."""

import datetime as dt
import logging
import secrets

import orjson
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.eventhub import EventData, EventDataBatch, PartitionContext
from azure.eventhub._pyamqp._decode import decode_payload
from azure.eventhub._pyamqp._encode import encode_payload
from azure.eventhub._pyamqp.types import TYPE, VALUE, AMQPTypes
from azure.eventhub._transport._pyamqp_transport import PyamqpTransport

from ecom_assets.events.eventhubs import (
    IngestCounts,
    LandingWriter,
    checkpoint_store,
    event_line,
    fill_batches,
    ingest,
)
from ecom_assets.events.landing import list_landing_files, read_landing_lines
from ecom_assets.operations.materialize import materialize_range
from ecom_assets.settings import EventHubsSettings
from ecom_assets.storage.lake import Lake
from ecom_assets_tests.azurite import free_port
from ecom_assets_tests.factories import event, line

NAMESPACE, HUB, GROUP = "ecom.servicebus.windows.net", "events", "$Default"
DAY = dt.date(2026, 10, 1)
NOON = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)


def received(body: str, sequence: int, enqueued: dt.datetime, key: str | None = None) -> EventData:
    """An event as a consumer gets it: AMQP bytes with the broker's annotations, decoded by the SDK.

    The annotation types are the broker's (long sequence number, timestamp enqueued time); encoding and
    decoding go through the SDK's own AMQP codec, which is private API, used here in the test only.
    """
    sent = EventData(body)
    sent.raw_amqp_message.annotations.update(
        {
            b"x-opt-sequence-number": {TYPE: AMQPTypes.long, VALUE: sequence},
            b"x-opt-offset": str(sequence * 1024).encode(),
            b"x-opt-enqueued-time": {TYPE: AMQPTypes.timestamp, VALUE: int(enqueued.timestamp() * 1000)},
            **({b"x-opt-partition-key": key.encode()} if key else {}),
        }
    )
    wire = encode_payload(bytearray(), PyamqpTransport.to_outgoing_amqp_message(sent.raw_amqp_message))
    return EventData._from_message(decode_payload(memoryview(wire)))


def partition(store, partition_id: str = "0") -> PartitionContext:
    return PartitionContext(NAMESPACE, HUB, GROUP, partition_id, store)


def checkpoints(store) -> dict[str, int]:
    return {
        item["partition_id"]: item["sequence_number"]
        for item in store.list_checkpoints(NAMESPACE, HUB, GROUP)
    }


def landed_lines(lake: Lake, day: dt.date) -> list[str]:
    return [text for path in list_landing_files(lake, day) for text in read_landing_lines(lake, path)]


@pytest.fixture
def store(azure_lake):
    """The real blob checkpoint store, in a container of this test's own on the lake's account."""
    settings = EventHubsSettings(name=HUB, checkpoint_container=f"checkpoints-{azure_lake.azure.container}")
    return checkpoint_store(azure_lake, settings)


def test_a_batch_lands_by_enqueued_date_before_its_checkpoint(azure_lake, store):
    late_evening = dt.datetime(2026, 10, 1, 23, 59, 59, tzinfo=dt.UTC)
    bodies = [line(event(n)) for n in range(3)]
    events = [received(bodies[0], 7, late_evening), received(bodies[1], 8, late_evening)]
    events.append(received(bodies[2], 9, late_evening + dt.timedelta(seconds=2)))
    writer = LandingWriter(azure_lake, HUB)

    writer(partition(store, "3"), events)

    assert landed_lines(azure_lake, DAY) == bodies[:2]
    assert landed_lines(azure_lake, DAY + dt.timedelta(days=1)) == bodies[2:]
    assert list_landing_files(azure_lake, DAY) == [
        "landing/events/date=2026-10-01/eventhubs-events-p3-000000000007-000000000008.jsonl"
    ]
    assert checkpoints(store) == {"3": 9}
    assert (writer.counts.events, writer.counts.files, writer.counts.checkpoints) == (3, 2, 1)


def test_no_checkpoint_moves_when_the_landing_file_cannot_be_written(azure_lake, store):
    LandingWriter(azure_lake, HUB)(partition(store), [received(line(event(1)), 0, NOON)])
    lake_without_container = Lake(azure_lake.uri.replace(azure_lake.azure.container, "no-such-container"))

    with pytest.raises(ResourceNotFoundError):
        LandingWriter(lake_without_container, HUB)(partition(store), [received(line(event(2)), 1, NOON)])

    assert checkpoints(store) == {"0": 0}


def test_an_empty_wait_writes_nothing_and_keeps_the_checkpoint(azure_lake, store):
    LandingWriter(azure_lake, HUB)(partition(store), [])

    assert checkpoints(store) == {} and landed_lines(azure_lake, DAY) == []


def test_bodies_become_single_landing_lines_unchanged_otherwise():
    pretty = '{\n  "event_id": "x",\r\n  "note": "ü"\n}'

    assert event_line(received(pretty, 0, NOON)) == '{   "event_id": "x",    "note": "ü" }'
    assert orjson.loads(event_line(received(pretty, 0, NOON))) == orjson.loads(pretty)
    assert event_line(received("not json", 1, NOON)) == "not json"


class CrashAfterLanding(Exception):
    """The process dies between writing a landing file and its checkpoint."""


def crash(event=None):
    raise CrashAfterLanding


def test_a_restart_resumes_at_the_checkpoint_and_silver_has_every_event_once(azure_lake, store):
    hub = [received(line(event(n, customer_id=f"c{n % 4}")), n, NOON) for n in range(10)]

    def deliver(batch_size: int):  # what the consumer does: resume after the partition's checkpoint
        start = checkpoints(store).get("0", -1) + 1
        for first in range(start, len(hub), batch_size):
            yield hub[first : first + batch_size]

    first_run = LandingWriter(azure_lake, HUB)
    crashing = partition(store)
    for number, batch in enumerate(deliver(batch_size=3)):
        if number == 2:
            crashing.update_checkpoint = crash
        try:
            first_run(crashing, batch)
        except CrashAfterLanding:
            break
    assert checkpoints(store) == {"0": 5}

    restarted = LandingWriter(azure_lake, HUB)
    for batch in deliver(batch_size=4):
        restarted(partition(store), batch)

    assert checkpoints(store) == {"0": 9}
    assert len(landed_lines(azure_lake, DAY)) == 13  # events 6..8 landed twice: at least once
    materialize_range(DAY, DAY, selection="group:bronze or group:silver")
    silver = azure_lake.read_table("silver/events")
    assert sorted(silver["event_id"]) == sorted(orjson.loads(event_line(e))["event_id"] for e in hub)


def test_events_are_batched_by_partition_key_in_order_and_split_when_full():
    lines = [line(event(n, customer_id=f"c{n % 2}")) for n in range(6)] + ["not json"]
    lines.append(line(event(9, anonymous_id="device-9")))

    keys = []

    def new_batch(key):
        keys.append(key)
        return EventDataBatch(max_size_in_bytes=700, partition_key=key)

    batches = list(fill_batches(lines, new_batch))

    assert keys == ["c0", "c0", "c1", "c1", None, "device-9"]  # three events of c0 or c1 fill two batches
    assert [len(batch) for batch in batches] == [2, 1, 2, 1, 1, 1]


def test_ingest_stops_on_time_and_never_logs_the_connection_key(azure_lake, caplog):
    caplog.set_level(logging.DEBUG)
    key = secrets.token_urlsafe(32)
    nobody_listens = free_port()
    connection = (
        f"Endpoint=sb://127.0.0.1:{nobody_listens};SharedAccessKeyName=ingest;SharedAccessKey={key};"
        "EntityPath=events;UseDevelopmentEmulator=true"
    )
    settings = EventHubsSettings(connection_string=connection, checkpoint_container="ingest-checkpoints")

    counts = ingest(azure_lake, seconds=1, settings=settings)

    assert counts == IngestCounts()
    assert "Connection refused" in caplog.text, "the consumer did try to connect"
    assert key not in caplog.text and key not in repr(settings)
    assert azure_lake.fs.exists(
        f"abfss://ingest-checkpoints@{azure_lake.azure.account}.dfs.core.windows.net/"
    )
