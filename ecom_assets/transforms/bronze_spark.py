"""Landing files to Bronze rows on Spark: the same rows as :mod:`ecom_assets.transforms.bronze`.

The driver lists and reads the landing files, as the polars engine does (a line's number within its
file is part of the Bronze row, and a distributed text reader has no stable notion of it), and stages
them as one Parquet file per day under ``<lake>/_spark_staging/``; Spark reads the staged files from the
lake's own storage, so no table of lines travels through the Spark Connect channel (it caps messages at
128 MiB). The staged files are removed when the caller is done with the frame.
"""

import datetime as dt
import io
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pyspark.sql import DataFrame, SparkSession

from ecom_assets.events.schema import BRONZE_SCHEMA
from ecom_assets.storage.lake import Lake
from ecom_assets.storage.spark_tables import cast_to
from ecom_assets.transforms import bronze

STAGING_DIR = "_spark_staging/bronze"


def _stage(lake: Lake, arrival_date: dt.date, run: str) -> str:
    buffer = io.BytesIO()
    bronze.read_landing_partition(lake, arrival_date).write_parquet(buffer)
    relative = f"{STAGING_DIR}/{run}-{arrival_date.isoformat()}.parquet"
    lake.write_bytes(relative, buffer.getvalue())
    return relative


@contextmanager
def read_landing_partitions(
    spark: SparkSession, lake: Lake, arrival_dates: Sequence[dt.date]
) -> Iterator[DataFrame]:
    """All landing files of the arrival dates as Bronze rows, readable until the block ends."""
    run = uuid.uuid4().hex
    staged = [_stage(lake, day, run) for day in arrival_dates]
    try:
        yield cast_to(spark.read.parquet(*(lake.table_uri(path) for path in staged)), BRONZE_SCHEMA)
    finally:
        for path in staged:
            lake.remove(path)
