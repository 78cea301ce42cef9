"""One asset graph, two engines (``ECOM_ENGINE``): what an asset does differently on Spark.

On polars the IO manager loads inputs as DataFrames and writes what the asset returns. On Spark it hands
the asset a :class:`TableSlice` instead (the Delta table and the partitions to read); the asset reads it
with Spark, runs the Spark twin of its transform, writes its partitions itself (``replaceWhere``, the
layout the IO manager uses) and returns no value, only metadata.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dagster as dg
import polars as pl

from ecom_assets.defs.metadata import PREVIEW_ROWS, markdown_table
from ecom_assets.defs.partitions import partition_dates
from ecom_assets.defs.tables import asset_key
from ecom_assets.settings import get_settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# The `spark` resource (SparkEngineResource, or None without the spark extra) as an asset parameter.
SparkParam = dg.ResourceParam[Any]
# A table input: a polars DataFrame on the polars engine, a TableSlice on Spark (Dagster checks no type).
TableInput = Any


@dataclass(frozen=True)
class TableSlice:
    uri: str
    partition_column: str | None = None
    partition_values: tuple[dt.date, ...] | None = None


def on_spark() -> bool:
    return get_settings().engine == "spark"


_SPARK_READS = "ecom/spark_reads_itself"
_LAZY = "ecom/lazy"


def table_in(table: str, *, lazy: bool = False, **asset_in: Any) -> dg.AssetIn:
    """An input of an asset with a Spark twin: on Spark the IO manager hands it a TableSlice to read.

    ``lazy``: on polars the asset gets a LazyFrame of the partitions and collects them a day at a time.
    """
    return dg.AssetIn(asset_key(table), metadata={_SPARK_READS: True, _LAZY: lazy}, **asset_in)


def reads_itself_on_spark(input_metadata: Mapping[str, Any] | None) -> bool:
    return bool((input_metadata or {}).get(_SPARK_READS))


def reads_lazily(input_metadata: Mapping[str, Any] | None) -> bool:
    return bool((input_metadata or {}).get(_LAZY))


def spark_session(spark: Any) -> SparkSession:
    if spark is None:
        raise RuntimeError("ECOM_ENGINE=spark needs the spark extra: pip install -e '.[spark]'")
    return spark.spark_session


def read_with_spark(spark: Any, table: TableSlice) -> DataFrame:
    from ecom_assets.storage.spark_tables import read_partitions

    return read_partitions(spark_session(spark), table.uri, table.partition_column, table.partition_values)


def _own_table(context: dg.AssetExecutionContext, spark: Any) -> tuple[str, TableSlice]:
    """The asset's Delta table and, when partitioned, the run's partitions of it."""
    key = "/".join(context.asset_key.path)
    uri = spark.lake_resource.get_lake().table_uri(key)
    column = context.assets_def.metadata_by_key[context.asset_key].get("partition_expr")
    if column is None:
        return key, TableSlice(uri)
    return key, TableSlice(uri, column, tuple(partition_dates(context)))


def written_with_spark(context: dg.AssetExecutionContext, spark: Any) -> DataFrame:
    """What the run wrote: its partitions of the asset's table, read back (cheaper than recomputing)."""
    return read_with_spark(spark, _own_table(context, spark)[1])


def write_with_spark(
    context: dg.AssetExecutionContext, spark: Any, frame: DataFrame, **extra: Any
) -> dg.Output[None]:
    """Replace the run's partitions (or the whole table) with ``frame``; metadata as the IO manager's."""
    from ecom_assets.storage.spark_tables import write_partitions

    key, table = _own_table(context, spark)
    metadata: dict[str, Any] = {"table_uri": dg.MetadataValue.path(table.uri), "engine": "spark"}
    dates = table.partition_values
    if dates:
        # A new table is written whole: Sail refuses replaceWhere where no Delta log exists yet.
        exists = spark.lake_resource.get_lake().table_exists(key)
        write_partitions(frame, table.uri, table.partition_column, dates if exists else None)
        metadata["partitions_in_run"] = f"{dates[0]} .. {dates[-1]}" if len(dates) > 1 else str(dates[0])
    else:
        write_partitions(frame, table.uri)
    written = written_with_spark(context, spark)
    preview = pl.DataFrame(pl.from_arrow(written.limit(PREVIEW_ROWS).toArrow()))
    metadata |= {"dagster/row_count": written.count(), "preview": markdown_table(preview, PREVIEW_ROWS)}
    return dg.Output(None, metadata={**metadata, **extra})
