"""The lake's Delta tables read and written by Spark, in the same layout as :class:`Lake` writes them.

A Spark job replaces exactly its partitions in one Delta commit (``replaceWhere``), so either engine can
continue from tables the other wrote; the schema of every table is fixed by the polars contract schemas,
cast here, so both engines write the same column types.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

_SPARK_TYPES: dict[type[pl.DataType], T.DataType] = {
    pl.String: T.StringType(),
    pl.Date: T.DateType(),
    pl.Datetime: T.TimestampType(),
    pl.Float64: T.DoubleType(),
    pl.Boolean: T.BooleanType(),
    pl.Int8: T.ByteType(),
    pl.Int32: T.IntegerType(),
    pl.Int64: T.LongType(),
    pl.UInt32: T.IntegerType(),
}


def spark_type(dtype: pl.DataType) -> T.DataType:
    """The Spark type that Delta stores as the polars type does (delta-rs writes UInt32 as integer)."""
    if isinstance(dtype, pl.List):
        inner = dtype.inner  # as declared: pl.List(pl.String) keeps the class, not an instance
        return T.ArrayType(spark_type(inner if isinstance(inner, pl.DataType) else inner()))
    return _SPARK_TYPES[dtype.base_type()]


def cast_to(frame: DataFrame, schema: pl.Schema) -> DataFrame:
    """``frame`` with exactly the columns of ``schema``, in its order and with its types."""
    return frame.select(*(F.col(name).cast(spark_type(dtype)).alias(name) for name, dtype in schema.items()))


def read_partitions(
    spark: SparkSession,
    table_uri: str,
    partition_column: str | None = None,
    partition_values: Sequence[dt.date] | None = None,
) -> DataFrame:
    frame = spark.read.format("delta").load(table_uri)
    if partition_column is None or partition_values is None:
        return frame
    return frame.where(F.col(partition_column).isin(list(partition_values)))


def write_partitions(
    frame: DataFrame,
    table_uri: str,
    partition_column: str | None = None,
    partition_values: Sequence[dt.date] | None = None,
) -> None:
    """Replace the given partitions (or the whole table) in one Delta commit, as ``Lake.write_table``."""
    writer = frame.write.format("delta").mode("overwrite")
    if partition_column is None:
        writer.option("overwriteSchema", "true").save(table_uri)
        return
    if partition_values is not None:
        literals = ", ".join(f"DATE'{value.isoformat()}'" for value in partition_values)
        writer = writer.option("replaceWhere", f"{partition_column} IN ({literals})")
    writer.partitionBy(partition_column).save(table_uri)
