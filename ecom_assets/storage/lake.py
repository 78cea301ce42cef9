"""One way to read and write the lake, used by Dagster, the CLI and the scoring service alike.

Tables are Delta tables at ``<lake>/<layer>/<name>``; files (landing zone, model registry, reports)
are addressed by paths relative to the lake root, so the same code runs on disk and on Azure.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cached_property, partial
from pathlib import Path
from typing import Final, TypedDict, TypeVar

import fsspec
import polars as pl
import pyarrow as pa
from deltalake import ColumnProperties, DeltaTable, WriterProperties, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError

from ecom_assets.faults import LAKE_BEFORE_COMMIT, LAKE_FILE_STAGED, fault_point
from ecom_assets.settings import AzureSettings, get_settings
from ecom_assets.storage.azure import BlobLocation, blob_filesystem, delta_storage_options, is_azure_uri
from ecom_assets.storage.errors import ConcurrentWriteError, reaching_storage
from ecom_assets.storage.partition_files import PartitionFiles, commit_partition_files

# A commit that loses a race with another run's commit on the same partitions is rewritten on the newer
# table version, a few times, before the run fails.
COMMIT_ATTEMPTS = 4
# delta-rs keeps each partition's file open until it reaches this size or the stream ends, so a stream
# over many partitions holds up to this much of each in memory (measured: 42 day partitions of a stream
# held 1.8 GB at the 100 MB default, 0.5 GB at 1 MB); 16 MB files still read fast.
STREAM_FILE_BYTES = 16 * 2**20
# A partition file written by polars holds up to this much of frames (about 15-25 MB once zstd-encoded), so
# the few files being written at once hold a few hundred MB however large a day is.
PARTITION_FILE_FRAME_BYTES = 64 * 2**20
# zstd at level 1 writes faster than delta-rs's default (snappy) and its files are half the size (Bronze of
# the 1M-event bench: 0.7 s and 46 MB against 1.3 s and 92 MB).
COMPRESSION: Final = "ZSTD"
COMPRESSION_LEVEL = 1
# Landing lines, each one different: a dictionary would be built only to be dropped, and min/max
# statistics of JSON text prune nothing.
LINE_COLUMNS = frozenset({"raw"})
T = TypeVar("T")


class TableNotFoundError(LookupError):
    """A Delta table that a reader needs has not been written yet."""


def _which_partitions(partition_values: Sequence[dt.date] | None) -> str:
    if not partition_values:
        return ""
    return f" partitions {min(partition_values)} .. {max(partition_values)}"


def _lost_race(key: str, partition_values: Sequence[dt.date] | None, times: str) -> ConcurrentWriteError:
    return ConcurrentWriteError(
        f"concurrent write to {key}{_which_partitions(partition_values)}: another run committed first "
        f"{times}; retry"
    )


class _WriteOptions(TypedDict):
    storage_options: dict[str, str] | None
    target_file_size: int | None
    writer_properties: WriterProperties


def writer_properties(schema: pa.Schema) -> WriterProperties:
    plain = ColumnProperties(dictionary_enabled=False, statistics_enabled="NONE")
    lines = {name: plain for name in schema.names if name in LINE_COLUMNS}
    return WriterProperties(
        compression=COMPRESSION, compression_level=COMPRESSION_LEVEL, column_properties=lines or None
    )


def _refuse_stray_rows(
    key: str, frame: pl.DataFrame, partition_column: str | None, partition_values: Sequence[dt.date] | None
) -> None:
    if partition_column is None or partition_values is None:
        return
    stray = frame.filter(~pl.col(partition_column).is_in(list(partition_values)))
    if stray.height:
        raise ValueError(
            f"{key}: {stray.height} rows have {partition_column} outside the partitions being written"
        )


class Lake:
    def __init__(self, uri: str, storage_options: dict[str, str] | None = None):
        self.is_local = "://" not in uri or uri.startswith("file://")
        self.uri = str(Path(uri.removeprefix("file://")).resolve()) if self.is_local else uri.rstrip("/")
        # Azure: the location, and credentials from the environment (AzureSettings), read once here.
        self.azure = BlobLocation.parse(self.uri) if is_azure_uri(self.uri) else None
        self.azure_settings = AzureSettings()
        if self.azure and storage_options is None:
            storage_options = delta_storage_options(self.azure, self.azure_settings)
        self.storage_options = storage_options or {}

    @classmethod
    def from_settings(cls) -> Lake:
        return cls(get_settings().lake_uri)

    def __repr__(self) -> str:
        return f"Lake({self.uri!r})"

    # -- Delta tables -------------------------------------------------------------------------

    def table_uri(self, key: str) -> str:
        return f"{self.uri}/{key.strip('/')}"

    @reaching_storage
    def table_exists(self, key: str) -> bool:
        return DeltaTable.is_deltatable(self.table_uri(key), storage_options=self.storage_options)

    def scan_table(self, key: str) -> pl.LazyFrame:
        if not self.table_exists(key):
            raise TableNotFoundError(f"table {key} does not exist in {self.uri}: materialise it first")
        return pl.scan_delta(self.table_uri(key), storage_options=self.storage_options or None)

    @reaching_storage
    def read_table(
        self,
        key: str,
        partition_column: str | None = None,
        partition_values: Iterable[dt.date] | None = None,
    ) -> pl.DataFrame:
        frame = self.scan_table(key)
        if partition_column is not None and partition_values is not None:
            frame = frame.filter(pl.col(partition_column).is_in(sorted(partition_values)))
        return frame.collect()

    def write_table(
        self,
        key: str,
        frame: pl.DataFrame,
        partition_column: str | None = None,
        partition_values: Sequence[dt.date] | None = None,
    ) -> None:
        """Replace the given partitions (or the whole table) in one Delta commit.

        Rows outside ``partition_values`` are refused rather than silently written elsewhere, and
        partitions that receive no rows end up empty: re-running a partition never duplicates it.
        """
        _refuse_stray_rows(key, frame, partition_column, partition_values)
        self._retrying_commit(
            key,
            partition_values,
            lambda: self._overwrite(key, frame.to_arrow(), partition_column, partition_values),
        )

    def write_table_stream(
        self,
        key: str,
        frames: Iterable[pl.DataFrame],
        schema: pl.Schema,
        partition_column: str | None = None,
        partition_values: Sequence[dt.date] | None = None,
    ) -> int | None:
        """``write_table`` for frames that come one after another: one commit, a few frames in memory at a
        time. Returns the table version of that commit when partitions were replaced (None for a whole
        table).

        Partitions are written as Parquet files by polars and their commit is retried like
        ``write_table``'s (``storage.partition_files``) when the table has the stream's columns; a stream
        that adds a column (or writes a whole table) goes through delta-rs's writer, which reads the stream
        once, so a lost commit race is not retried there: the caller redoes the work (a Dagster step
        retries). Either way only ``ConcurrentWriteError`` says so.
        """

        def typed() -> Iterator[pl.DataFrame]:
            for frame in frames:
                _refuse_stray_rows(key, frame, partition_column, partition_values)
                yield frame.select(schema.names()).cast(schema)

        arrow_schema = schema.to_frame().to_arrow().schema
        if partition_column is not None and partition_values is not None:
            self._create_if_missing(key, arrow_schema, partition_column)
            if dict(self._columns(key)) == dict(schema):
                return self._replace_partitions(key, typed(), partition_column, partition_values)
        batches = (batch for frame in typed() for batch in frame.to_arrow().to_batches())
        reader = pa.RecordBatchReader.from_batches(arrow_schema, batches)
        try:
            return self._overwrite(key, reader, partition_column, partition_values, STREAM_FILE_BYTES)
        except CommitFailedError as conflict:
            raise _lost_race(key, partition_values, "once") from conflict

    def _retrying_commit(
        self, key: str, partition_values: Sequence[dt.date] | None, commit: Callable[[], T]
    ) -> T:
        attempt = 1
        while True:
            try:
                return commit()
            except CommitFailedError as conflict:
                if attempt == COMMIT_ATTEMPTS:
                    raise _lost_race(key, partition_values, f"{COMMIT_ATTEMPTS} times") from conflict
                # Both writers replace whole partitions with what they computed: the last commit wins.
                time.sleep(random.uniform(0, 0.1 * 2**attempt))
                attempt += 1

    @reaching_storage
    def _columns(self, key: str) -> pl.Schema:
        table = DeltaTable(self.table_uri(key), storage_options=self.storage_options or None)
        return pl.DataFrame(pa.schema(table.schema().to_arrow()).empty_table()).schema

    @reaching_storage
    def _replace_partitions(
        self,
        key: str,
        frames: Iterable[pl.DataFrame],
        partition_column: str,
        partition_values: Sequence[dt.date],
    ) -> int:
        files = PartitionFiles(
            lambda path, data: self._write_table_file(key, path, data),
            partition_column,
            PARTITION_FILE_FRAME_BYTES,
            LINE_COLUMNS,
        )
        actions = files.write(frames)
        fault_point(LAKE_BEFORE_COMMIT)
        commit = partial(
            commit_partition_files,
            self.table_uri(key),
            self.storage_options or None,
            actions,
            partition_column,
            partition_values,
        )
        return self._retrying_commit(key, partition_values, commit)

    def _write_table_file(self, key: str, path: str, data: bytes) -> None:
        target = self._path(f"{key}/{path}")
        self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(target, data)

    @reaching_storage
    def _overwrite(
        self,
        key: str,
        data: pa.Table | pa.RecordBatchReader,
        partition_column: str | None,
        partition_values: Sequence[dt.date] | None,
        file_bytes: int | None = None,
    ) -> int | None:
        """The table version this write committed, when it replaced partitions."""
        options = _WriteOptions(
            storage_options=self.storage_options or None,
            target_file_size=file_bytes,
            writer_properties=writer_properties(data.schema),
        )
        fault_point(LAKE_BEFORE_COMMIT)
        if partition_column is None:
            write_deltalake(self.table_uri(key), data, mode="overwrite", schema_mode="overwrite", **options)
            return None
        if partition_values is None:
            write_deltalake(
                self.table_uri(key), data, partition_by=[partition_column], mode="overwrite", **options
            )
            return None
        self._create_if_missing(key, data.schema, partition_column)
        literals = ", ".join(f"'{value.isoformat()}'" for value in partition_values)
        # Written through a table object, which then stands at the version this commit made, whatever
        # other writers committed since.
        table = DeltaTable(self.table_uri(key), storage_options=self.storage_options or None)
        # A column added to a table (``arm`` in ml/batch_scores) joins its schema; older partitions read it
        # as null.
        write_deltalake(
            table,
            data,
            partition_by=[partition_column],
            mode="overwrite",
            predicate=f"{partition_column} IN ({literals})",
            schema_mode="merge",
            **options,
        )
        return table.version()

    @reaching_storage
    def append_table(self, key: str, frame: pl.DataFrame, partition_column: str | None = None) -> None:
        """Add rows in one Delta commit, creating the table if needed: for logs, which are never re-run.

        New columns are added to the table (older rows read them as null), so a log can grow a column.
        """
        partition_by = [partition_column] if partition_column else None
        data = frame.to_arrow()
        fault_point(LAKE_BEFORE_COMMIT)
        write_deltalake(
            self.table_uri(key),
            data,
            mode="append",
            schema_mode="merge",
            partition_by=partition_by,
            storage_options=self.storage_options or None,
            writer_properties=writer_properties(data.schema),
        )

    def _create_if_missing(self, key: str, schema: pa.Schema, partition_column: str) -> None:
        """An empty table, so that even the first writers replace their partitions by predicate and a race
        between them is a commit conflict: two plain first writes would both commit (delta-rs moves the
        second to the next version), each with all its rows, and the table would hold them twice."""
        if self.table_exists(key):
            return
        try:
            write_deltalake(
                self.table_uri(key),
                schema.empty_table(),
                partition_by=[partition_column],
                mode="ignore",
                storage_options=self.storage_options or None,
            )
        except DeltaError:
            if not self.table_exists(key):  # not another writer creating it first: a real failure
                raise

    @reaching_storage
    def partition_fingerprints(
        self, key: str, partition_column: str, version: int | None = None
    ) -> dict[dt.date, str]:
        """A fingerprint of each partition's data files (paths and sizes) at a table version (the latest
        by default).

        Delta never rewrites a file in place, so an equal fingerprint means the very same rows.
        """
        if not self.table_exists(key):
            return {}
        table = DeltaTable(self.table_uri(key), version=version, storage_options=self.storage_options or None)
        actions = pa.table(table.get_add_actions(flatten=True))
        files = pl.DataFrame(pl.from_arrow(actions)).select(
            "path", "size_bytes", partition=pl.col(f"partition.{partition_column}")
        )
        fingerprints = (
            files.sort("path")
            .group_by("partition")
            .agg(fingerprint=pl.concat_str("path", "size_bytes", separator=":").str.join("|"))
        )
        return {
            partition: hashlib.blake2b(fingerprint.encode()).hexdigest()
            for partition, fingerprint in fingerprints.iter_rows()
        }

    @reaching_storage
    def table_version(self, key: str) -> int:
        """The table's latest Delta version: it changes with every commit, so readers can poll it cheaply."""
        return DeltaTable(self.table_uri(key), storage_options=self.storage_options or None).version()

    # -- plain files --------------------------------------------------------------------------

    @cached_property
    def fs(self) -> fsspec.AbstractFileSystem:
        if self.azure:
            return blob_filesystem(self.azure, self.azure_settings)
        protocol = "file" if self.is_local else self.uri.split("://", 1)[0]
        return fsspec.filesystem(protocol, **self.storage_options)

    def _path(self, relative: str) -> str:
        return f"{self.uri}/{relative.strip('/')}"

    @reaching_storage
    def list_files(self, relative_dir: str) -> list[str]:
        """Lake-relative paths of the files directly under a folder, sorted; [] when it does not exist."""
        folder = self._path(relative_dir)
        if not self.fs.exists(folder):
            return []
        names = sorted(Path(path).name for path in self.fs.ls(folder, detail=False))
        return [f"{relative_dir.strip('/')}/{name}" for name in names]

    @reaching_storage
    def exists(self, relative: str) -> bool:
        return self.fs.exists(self._path(relative))

    @reaching_storage
    def read_bytes(self, relative: str) -> bytes:
        return self.fs.cat_file(self._path(relative))

    @reaching_storage
    def modified(self, relative: str) -> dt.datetime:
        stamp = self.fs.modified(self._path(relative))
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)

    @reaching_storage
    def remove(self, relative: str) -> None:
        self.fs.rm(self._path(relative))

    @reaching_storage
    def write_bytes(self, relative: str, data: bytes) -> None:
        """Write a file whole before it becomes visible under its name (readers never see half a file)."""
        target = self._path(relative)
        parent, name = target.rsplit("/", 1)
        staging = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
        self.fs.makedirs(parent, exist_ok=True)
        self.fs.pipe_file(staging, data)
        fault_point(LAKE_FILE_STAGED)
        self.fs.mv(staging, target)
