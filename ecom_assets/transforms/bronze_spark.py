"""Landing files to Bronze rows on Spark: the same rows as :mod:`ecom_assets.transforms.bronze`.

The driver lists and reads the landing files, as the polars engine does, and hands them to Spark as
Arrow: a line's number within its file is part of the Bronze row, and a distributed text reader has no
stable notion of it. Bronze is the smallest step of the graph; everything after it runs on the cluster.
"""

import datetime as dt

from pyspark.sql import DataFrame, SparkSession

from ecom_assets.storage.lake import Lake
from ecom_assets.storage.spark_tables import from_polars
from ecom_assets.transforms import bronze


def read_landing_partition(spark: SparkSession, lake: Lake, arrival_date: dt.date) -> DataFrame:
    """All landing files of one arrival date as Bronze rows (empty when nothing has landed)."""
    return from_polars(spark, bronze.read_landing_partition(lake, arrival_date))
