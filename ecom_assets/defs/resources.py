"""The resources of the code location, in one place: the lake, the IO manager that stores polars
DataFrames as Delta tables in it, and the Spark engine (``spark``, used when ``ECOM_ENGINE=spark``).

Partitioned assets declare their date column with ``metadata={"partition_expr": "<column>"}``; a run
replaces exactly its partitions in one commit (single partitions and ranged backfill runs alike), and
downstream assets read exactly the upstream partitions that their partition mapping asks for.
"""

import datetime as dt
from importlib.util import find_spec

import dagster as dg
import polars as pl
from pydantic import Field

from ecom_assets.defs.engine import TableSlice, on_spark, reads_itself_on_spark, reads_lazily
from ecom_assets.defs.metadata import StreamTally
from ecom_assets.defs.partitions import dates_of
from ecom_assets.defs.tables import TableStream
from ecom_assets.settings import get_settings
from ecom_assets.spark_session import SESSION_CONFIG
from ecom_assets.storage.lake import ConcurrentWriteError, Lake

CONFLICT_RETRIES = 2


class LakeResource(dg.ConfigurableResource):
    """The lake as a Dagster resource."""

    uri: str | None = Field(
        None, description="Lake root: path or abfss:// URI; unset, ECOM_LAKE_URI when the run reads it"
    )

    def get_lake(self) -> Lake:
        return Lake(self.uri or get_settings().lake_uri)


def table_key(asset_key: dg.AssetKey) -> str:
    return "/".join(asset_key.path)


def _partition_column(definition_metadata) -> str:
    column = (definition_metadata or {}).get("partition_expr")
    if column is None:
        raise dg.DagsterInvariantViolationError("partitioned Delta assets need metadata partition_expr")
    return column


class DeltaLakeIOManager(dg.ConfigurableIOManager):
    lake_resource: dg.ResourceDependency[LakeResource]

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | TableStream | None) -> None:
        if obj is None:
            return
        lake = self.lake_resource.get_lake()
        key = table_key(context.asset_key)
        metadata: dict[str, dg.RawMetadataValue] = {"table_uri": dg.MetadataValue.path(lake.table_uri(key))}
        column, dates = None, None
        if context.has_asset_partitions:
            column = _partition_column(context.definition_metadata)
            dates = sorted(dates_of(context.asset_partition_keys))
            # A range run records one materialisation per day, each with the figures of the whole run.
            span = f"{dates[0]} .. {dates[-1]} ({len(dates)} days; figures cover them all)"
            metadata["partitions_in_run"] = span if len(dates) > 1 else str(dates[0])
        try:
            if isinstance(obj, TableStream):
                tally, version = StreamTally(obj.schema), None
                try:
                    version = lake.write_table_stream(key, tally.watch(obj.frames), obj.schema, column, dates)
                finally:
                    obj.committed(version)
                metadata |= tally.metadata() | obj.figures()
            else:
                lake.write_table(key, obj, column, dates)
        except ConcurrentWriteError as conflict:
            # Only conflicts are retried, and the whole step: its inputs may be what the other run wrote.
            raise dg.RetryRequested(max_retries=CONFLICT_RETRIES, seconds_to_wait=1) from conflict
        context.add_output_metadata(metadata)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame | pl.LazyFrame | TableSlice:
        """The upstream partitions as polars (lazily for a ``lazy`` input), or on Spark the slice to read."""
        lake = self.lake_resource.get_lake()
        key = table_key(context.asset_key)
        partitions = self._partitions_read(context)
        if on_spark() and reads_itself_on_spark(context.definition_metadata):
            return TableSlice(lake.table_uri(key), *(partitions or ()))
        if not reads_lazily(context.definition_metadata):
            return lake.read_table(key, *(partitions or ()))
        table = lake.scan_table(key)
        if partitions is None:
            return table
        column, dates = partitions
        return table.filter(pl.col(column).is_in(dates))

    @staticmethod
    def _partitions_read(context: dg.InputContext) -> tuple[str, tuple[dt.date, ...]] | None:
        """The partition column and the dates an input reads, or None for the whole table."""
        if not context.has_asset_partitions:
            return None
        keys = context.asset_partition_keys
        if len(keys) == context.asset_partitions_def.get_num_partitions():
            return None
        upstream = context.upstream_output
        return _partition_column(upstream.definition_metadata if upstream else None), tuple(dates_of(keys))


def spark_resource(lake_resource: LakeResource) -> dg.ConfigurableResource | dg.ResourceDefinition:
    """dagster-pyspark's session for the Spark engine, created on first use; none without the spark extra."""
    if find_spec("dagster_pyspark") is None:
        return dg.ResourceDefinition.none_resource(description="ECOM_ENGINE=spark needs the spark extra")
    from ecom_assets.defs.spark import SparkEngineResource

    return SparkEngineResource(spark_config=SESSION_CONFIG, lake_resource=lake_resource)


def build_resources(lake_uri: str | None = None) -> dict:
    """The resources of the code location; the lake URI alone switches between local disk and Azure."""
    lake_resource = LakeResource(uri=lake_uri)
    return {
        "lake_resource": lake_resource,
        "io_manager": DeltaLakeIOManager(lake_resource=lake_resource),
        "spark": spark_resource(lake_resource),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
