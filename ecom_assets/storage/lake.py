"""One way to read and write the lake, used by Dagster, the CLI and the scoring service alike.

Tables are Delta tables at ``<lake>/<layer>/<name>``; files (landing zone, model registry, reports)
are addressed by paths relative to the lake root, so the same code runs on disk and on Azure.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path

import fsspec
import polars as pl
from deltalake import DeltaTable, write_deltalake

from ecom_assets.settings import AzureSettings, get_settings
from ecom_assets.storage.azure import BlobLocation, blob_filesystem, delta_storage_options, is_azure_uri


class TableNotFoundError(LookupError):
    """A Delta table that a reader needs has not been written yet."""


class Lake:
    def __init__(self, uri: str, storage_options: dict[str, str] | None = None):
        self.is_local = "://" not in uri or uri.startswith("file://")
        self.uri = str(Path(uri.removeprefix("file://")).resolve()) if self.is_local else uri.rstrip("/")
        # Azure: the location, and credentials from the environment (AzureSettings), read once here.
        self.azure = BlobLocation.parse(self.uri) if is_azure_uri(self.uri) else None
        self.azure_settings = AzureSettings() if self.azure else None
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

    def table_exists(self, key: str) -> bool:
        return DeltaTable.is_deltatable(self.table_uri(key), storage_options=self.storage_options)

    def scan_table(self, key: str) -> pl.LazyFrame:
        if not self.table_exists(key):
            raise TableNotFoundError(f"table {key} does not exist in {self.uri}: materialise it first")
        return pl.scan_delta(self.table_uri(key), storage_options=self.storage_options or None)

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
        options = {"storage_options": self.storage_options or None, "mode": "overwrite"}
        if partition_column is None:
            write_deltalake(self.table_uri(key), frame.to_arrow(), schema_mode="overwrite", **options)
            return
        if partition_values is not None:
            stray = frame.filter(~pl.col(partition_column).is_in(list(partition_values)))
            if stray.height:
                raise ValueError(
                    f"{key}: {stray.height} rows have {partition_column} outside the partitions being written"
                )
            if self.table_exists(key):
                literals = ", ".join(f"'{value.isoformat()}'" for value in partition_values)
                options["predicate"] = f"{partition_column} IN ({literals})"
        # A column added to a table's schema (Bronze's read_error) reads as null in older partitions.
        write_deltalake(
            self.table_uri(key),
            frame.to_arrow(),
            partition_by=[partition_column],
            schema_mode="merge",
            **options,
        )

    def append_table(self, key: str, frame: pl.DataFrame, partition_column: str | None = None) -> None:
        """Add rows in one Delta commit, creating the table if needed: for logs, which are never re-run."""
        partition_by = [partition_column] if partition_column else None
        write_deltalake(
            self.table_uri(key),
            frame.to_arrow(),
            mode="append",
            partition_by=partition_by,
            storage_options=self.storage_options or None,
        )

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

    def list_files(self, relative_dir: str) -> list[str]:
        """Lake-relative paths of the files directly under a folder, sorted; [] when it does not exist."""
        folder = self._path(relative_dir)
        if not self.fs.exists(folder):
            return []
        names = sorted(Path(path).name for path in self.fs.ls(folder, detail=False))
        return [f"{relative_dir.strip('/')}/{name}" for name in names]

    def exists(self, relative: str) -> bool:
        return self.fs.exists(self._path(relative))

    def read_bytes(self, relative: str) -> bytes:
        return self.fs.cat_file(self._path(relative))

    def modified(self, relative: str) -> dt.datetime:
        stamp = self.fs.modified(self._path(relative))
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)

    def remove(self, relative: str) -> None:
        self.fs.rm(self._path(relative))

    def write_bytes(self, relative: str, data: bytes) -> None:
        """Write a file whole before it becomes visible under its name (readers never see half a file)."""
        target = self._path(relative)
        parent, name = target.rsplit("/", 1)
        staging = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
        self.fs.makedirs(parent, exist_ok=True)
        self.fs.pipe_file(staging, data)
        self.fs.mv(staging, target)
