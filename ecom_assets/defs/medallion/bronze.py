"""Bronze: the landing zone as it came, partitioned by arrival date, for audit and replay."""

import dagster as dg
import polars as pl

from ecom_assets.defs import engine
from ecom_assets.defs.metadata import markdown_table, table_metadata
from ecom_assets.defs.partitions import partition_dates
from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import asset_key, daily_table
from ecom_assets.keys import BRONZE_EVENTS
from ecom_assets.transforms.bronze import read_landing_partition


@dg.asset(
    key=asset_key(BRONZE_EVENTS),
    group_name="bronze",
    **daily_table("arrival_date"),
)
def bronze_events(
    context: dg.AssetExecutionContext, lake_resource: LakeResource, spark: engine.SparkParam
) -> dg.Output:
    """Every landing-zone line exactly as it arrived, with arrival date, file, line and landing time.

    A file that cannot be read is one row naming it and the reason; the other files go on.
    """
    lake = lake_resource.get_lake()
    if engine.on_spark():
        from ecom_assets.transforms import bronze_spark

        days = partition_dates(context)
        with bronze_spark.read_landing_partitions(engine.spark_session(spark), lake, days) as lines:
            return engine.write_with_spark(context, spark, lines)
    bronze = pl.concat([read_landing_partition(lake, day) for day in partition_dates(context)])
    files = bronze.select(pl.col("source_file").n_unique()).item()
    unreadable = bronze.filter(pl.col("read_error").is_not_null()).select(
        "arrival_date", "source_file", "read_error"
    )
    for path, error in unreadable.select("source_file", "read_error").iter_rows():
        context.log.warning(f"landing file {path} could not be read ({error}): rejected as unreadable_file")
    metadata = table_metadata(bronze, landing_files=files, unreadable_files=unreadable.height)
    if unreadable.height:
        metadata["unreadable_file_list"] = markdown_table(unreadable, max_rows=50, max_width=120)
    return dg.Output(bronze, metadata=metadata)
