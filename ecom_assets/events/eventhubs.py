"""Azure Event Hubs at the edge of the lake: send simulated events to a hub, and land what a hub receives.

Ingestion is at-least-once: each batch a partition delivers becomes one landing file per arrival date (the
UTC enqueued time, as Event Hubs Capture partitions it), written whole; only then is the partition
checkpointed, in a blob container on the lake's storage account. A crash between the two re-delivers the
batch and Silver drops the repeated event ids, so the tables are exactly-once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from itertools import groupby
from typing import cast

import orjson
from azure.core.exceptions import ResourceExistsError
from azure.eventhub import (
    EventData,
    EventDataBatch,
    EventHubConsumerClient,
    EventHubProducerClient,
    PartitionContext,
)
from azure.eventhub.amqp import AmqpMessageBodyType
from azure.eventhub.extensions.checkpointstoreblob import BlobCheckpointStore
from azure.identity import DefaultAzureCredential
from azure.storage.blob import ContainerClient
from rich.progress import Progress

from ecom_assets.events.landing import write_landing_file
from ecom_assets.settings import EventHubsSettings
from ecom_assets.storage.azure import blob_account_url, blob_credential
from ecom_assets.storage.lake import Lake

log = logging.getLogger(__name__)


def _client_arguments(settings: EventHubsSettings) -> dict:
    if settings.connection_string:
        return {"conn_str": settings.connection_string.get_secret_value(), "eventhub_name": settings.name}
    if settings.namespace:
        return {
            "fully_qualified_namespace": settings.namespace,
            "eventhub_name": settings.name,
            "credential": DefaultAzureCredential(),
        }
    raise ValueError(
        "Event Hubs is not configured: set ECOM_EVENTHUB_CONNECTION_STRING, or ECOM_EVENTHUB_NAMESPACE "
        "with Azure credentials (see README, Deploying on Azure)"
    )


def producer_client(settings: EventHubsSettings) -> EventHubProducerClient:
    arguments = _client_arguments(settings)
    if "conn_str" in arguments:
        return EventHubProducerClient.from_connection_string(**arguments)
    return EventHubProducerClient(**arguments)


def consumer_client(settings: EventHubsSettings, store: BlobCheckpointStore) -> EventHubConsumerClient:
    arguments = {
        **_client_arguments(settings),
        "consumer_group": settings.consumer_group,
        "checkpoint_store": store,
    }
    if "conn_str" in arguments:
        return EventHubConsumerClient.from_connection_string(**arguments)
    return EventHubConsumerClient(**arguments)


# -- producing ----------------------------------------------------------------------------------


def partition_key(line: str) -> str | None:
    """The customer, else the device: one visitor's events stay in order on one partition."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None  # a malformed line still goes out, for Silver to reject with its reason
    if not isinstance(event, dict):
        return None
    key = event.get("customer_id") or event.get("anonymous_id")
    return key if isinstance(key, str) else None


def fill_batches(
    lines: Iterable[str], new_batch: Callable[[str | None], EventDataBatch]
) -> Iterator[EventDataBatch]:
    """The lines as events in full batches, one partition key per batch, in order within each key."""
    by_key: dict[str | None, list[str]] = {}
    for line in lines:
        by_key.setdefault(partition_key(line), []).append(line)
    for key, group in by_key.items():
        batch = new_batch(key)
        for line in group:
            try:
                batch.add(EventData(line))
            except ValueError:  # full: send it and start the next one
                if len(batch) == 0:
                    raise ValueError(
                        f"event of {len(line)} bytes is larger than an Event Hubs batch"
                    ) from None
                yield batch
                batch = new_batch(key)
                batch.add(EventData(line))
        if len(batch):
            yield batch


def send_lines(producer: EventHubProducerClient, lines: Iterable[str]) -> int:
    sent = 0
    for batch in fill_batches(lines, lambda key: producer.create_batch(partition_key=key)):
        producer.send_batch(batch)
        sent += len(batch)
    return sent


# -- ingesting ----------------------------------------------------------------------------------


def event_line(event: EventData) -> str:
    """The event body as one landing line: JSON whitespace newlines become spaces, nothing else changes."""
    body = (
        b"".join(cast(Iterable[bytes], event.body))
        if event.body_type == AmqpMessageBodyType.DATA
        else str(event.body).encode()
    )
    return body.decode("utf-8", errors="replace").replace("\r", " ").replace("\n", " ")


def arrival_date(event: EventData) -> dt.date:
    if event.enqueued_time is None:
        raise ValueError(f"event {event.sequence_number} has no enqueued time: it did not come from a broker")
    return event.enqueued_time.astimezone(dt.UTC).date()


@dataclass
class IngestCounts:
    events: int = 0
    files: int = 0
    checkpoints: int = 0


class LandingWriter:
    """The ``on_event_batch`` callback of ``ecom ingest``: landing files first, then the checkpoint."""

    def __init__(self, lake: Lake, eventhub_name: str):
        self.lake, self.eventhub_name = lake, eventhub_name
        self.counts = IngestCounts()
        self._counting = threading.Lock()  # the consumer calls back from one thread per partition

    def __call__(self, partition: PartitionContext, events: list[EventData]) -> None:
        if not events:  # max_wait_time passed without events
            return
        paths = []
        for day, grouped in groupby(events, key=arrival_date):
            group = list(grouped)
            name = (
                f"eventhubs-{self.eventhub_name}-p{partition.partition_id}"
                f"-{group[0].sequence_number:012d}-{group[-1].sequence_number:012d}.jsonl"
            )
            paths.append(write_landing_file(self.lake, day, name, [event_line(event) for event in group]))
        partition.update_checkpoint(events[-1])
        log.info("partition %s: %d events in %s", partition.partition_id, len(events), ", ".join(paths))
        with self._counting:
            self.counts.events += len(events)
            self.counts.files += len(paths)
            self.counts.checkpoints += 1


def checkpoint_store(lake: Lake, settings: EventHubsSettings) -> BlobCheckpointStore:
    """Checkpoints in a container of the lake's own storage account, created on first use."""
    if lake.azure is None:
        raise ValueError(
            f"ecom ingest keeps its checkpoints in the lake's storage account, but the lake {lake.uri} is "
            "local: set ECOM_LAKE_URI to abfss://<container>@<account>.dfs.core.windows.net/<prefix>"
        )
    account_url = blob_account_url(lake.azure.account, lake.azure_settings)
    credential = blob_credential(lake.azure.account, lake.azure_settings)
    with suppress(ResourceExistsError):
        ContainerClient(account_url, settings.checkpoint_container, credential=credential).create_container()
    return BlobCheckpointStore(account_url, settings.checkpoint_container, credential=credential)


def ingest(
    lake: Lake, seconds: float | None = None, settings: EventHubsSettings | None = None
) -> IngestCounts:
    """Consume every partition from its checkpoint (else the start) into the landing zone.

    Runs until interrupted, or for ``seconds``; a long-running process beside Dagster, whose sensors and
    schedules pick the landing files up.
    """
    settings = settings or EventHubsSettings()
    writer = LandingWriter(lake, settings.name)
    consumer = consumer_client(settings, checkpoint_store(lake, settings))
    stop = threading.Timer(seconds, consumer.close) if seconds else None
    with consumer:
        if stop:
            stop.start()
        consumer.receive_batch(
            on_event_batch=writer,
            on_error=_log_error,
            max_batch_size=settings.batch_events,
            prefetch=settings.batch_events,
            max_wait_time=settings.batch_seconds,
            starting_position="-1",
        )
    if stop:
        stop.cancel()
    return writer.counts


def _log_error(partition: PartitionContext | None, error: Exception) -> None:
    # The batch was not checkpointed: the partition is received again from its last checkpoint.
    where = partition.partition_id if partition else "load balancing"
    log.error("Event Hubs partition %s: %s: %s", where, type(error).__name__, error)


def send_simulated(
    start: dt.date,
    days: int,
    customers: int = 1000,
    seed: int = 7,
    drift_from: dt.date | None = None,
    progress: bool = True,
    settings: EventHubsSettings | None = None,
) -> int:
    """``ecom simulate --to eventhubs``: the simulator's events, day by day, into the hub."""
    from ecom_assets.events.simulator import generate

    sent = 0
    with (
        producer_client(settings or EventHubsSettings()) as producer,
        Progress(disable=not progress, transient=True) as bar,
    ):
        task = bar.add_task("sending days", total=days)
        for _, lines in generate(start, days, customers=customers, seed=seed, drift_from=drift_from):
            sent += send_lines(producer, lines)
            bar.advance(task)
    return sent
