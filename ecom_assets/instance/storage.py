"""SQLite storage for the embedded instance, laid out as Dagster's default, whose event log writes a
batch of events in one transaction per database.

A range run over N daily partitions records a planned and a materialization event per partition and
asset. Dagster's SQLite event log writes each one on its own: a run-shard commit, then an index-shard
commit, each an fsync (the bench's 30-day range: 306 events, 2.5-3 s of waiting on the disk).
Dagster already groups these events and hands a group to ``store_event_batch`` (when
``DAGSTER_EVENT_BATCH_SIZE`` > 0); the stock SQLite storage inherits a loop over ``store_event``. Here
the same ``store_event`` runs for every event of the batch, in order, on one open connection per shard,
so the rows, asset entries, tags and check records are exactly those of one-by-one writes, committed
twice per batch instead of twice per event. An error while storing rolls the batch back whole, and
Dagster then stores its events one by one (after the inherited loop failed half way, that fallback
stored the first events twice).
"""

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, SqliteStorageConfig
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection

# Dagster buffers grouped events and calls store_event_batch only when this is above 0. It reads the
# variable per event in whichever process writes: `ecom materialize`, and under `dagster dev` the
# webserver and daemon (they create runs, so they write the planned events) as well as the run and step
# workers. Each of them loads this module to open the instance, so batching is on exactly where the
# storage can batch. 1000 events hold a year of daily partitions of two assets in one batch.
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """``SqliteEventLogStorage`` that stores a batch of one run's events in one transaction per shard."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data)
        # A batch holds its run-shard and index-shard connections at once; other threads still wait.
        self._db_lock = threading.RLock()  # type: ignore[assignment]
        self._batch = threading.local()
        self._tables_seen: set[str] = set()

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        held = getattr(self._batch, "connections", {}).get(shard)
        if held is not None:
            yield held
            return
        with super()._connect(shard) as conn:
            yield conn

    def has_table(self, table_name: str) -> bool:
        # Asked before every tag insert and asset check record, each time over a new engine. Dagster only
        # ever adds tables (`dagster instance migrate`), so a table once seen is there for good.
        if table_name not in self._tables_seen and super().has_table(table_name):
            self._tables_seen.add(table_name)
        return table_name in self._tables_seen

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        run_ids = {event.run_id for event in events}
        if len(run_ids) != 1:  # Dagster's batches are one run's events; anything else goes one by one
            super().store_event_batch(events)
            return
        (run_id,) = run_ids
        with self.run_connection(run_id) as run_conn, self.index_connection() as index_conn:
            self._batch.connections = {run_id: run_conn, INDEX_SHARD_NAME: index_conn}
            try:
                for event in events:
                    self.store_event(event)
            finally:
                self._batch.connections = {}


class BatchedSqliteStorage(DagsterSqliteStorage):
    """Dagster's default SQLite storage in ``base_dir`` with the batching event log."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        super().__init__(base_dir, inst_data)
        # The parent made the stock event log; the batching one takes its place, in the same directory.
        self._event_log_storage = BatchedSqliteEventLogStorage(self._event_log_storage._base_dir)

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData, config_value: SqliteStorageConfig
    ) -> "BatchedSqliteStorage":
        return cls.from_local(inst_data=inst_data, **config_value)
