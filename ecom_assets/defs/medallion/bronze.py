"""Bronze: the landing zone as it came, partitioned by arrival date, for audit and replay."""

from collections.abc import Iterable, Iterator

import dagster as dg
import polars as pl

from ecom_assets.defs import engine
from ecom_assets.defs.medallion.parses import parse_ahead
from ecom_assets.defs.metadata import markdown_table
from ecom_assets.defs.partitions import partition_dates
from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import TableStream, asset_key, daily_table
from ecom_assets.events.schema import BRONZE_SCHEMA
from ecom_assets.keys import BRONZE_EVENTS
from ecom_assets.transforms.bronze import landing_frames


class LandingFiles:
    """The landing files that pass into Bronze: how many, and which could not be read (logged as met)."""

    def __init__(self, log: dg.DagsterLogManager):
        self._log = log
        self.files = 0
        self._unreadable: list[pl.DataFrame] = []

    def watch(self, frames: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        for frame in frames:
            self.files += 1
            unreadable = frame.filter(pl.col("read_error").is_not_null())
            for path, error in unreadable.select("source_file", "read_error").iter_rows():
                self._log.warning(
                    f"landing file {path} could not be read ({error}): rejected as unreadable_file"
                )
            self._unreadable.append(unreadable.select("arrival_date", "source_file", "read_error"))
            yield frame

    def figures(self) -> dict:
        unreadable = pl.concat(self._unreadable) if self._unreadable else pl.DataFrame()
        figures: dict[str, dg.RawMetadataValue] = {
            "landing_files": self.files,
            "unreadable_files": unreadable.height,
        }
        if unreadable.height:
            figures["unreadable_file_list"] = markdown_table(unreadable, max_rows=50, max_width=120)
        return figures


@dg.asset(
    key=asset_key(BRONZE_EVENTS),
    group_name="bronze",
    **daily_table("arrival_date", BRONZE_SCHEMA),
)
def bronze_events(
    context: dg.AssetExecutionContext, lake_resource: LakeResource, spark: engine.SparkParam
) -> dg.Output:
    """Every landing-zone line exactly as it arrived, with arrival date, file, line and landing time.

    A file that cannot be read is one row naming it and the reason; the other files go on. Files are
    written as they are read, so a run over many days holds a few files in memory at a time. When the
    rejects of the same days follow in this process, each day's lines are parsed as they pass, beside
    the write (``defs.medallion.parses``).
    """
    lake = lake_resource.get_lake()
    days = partition_dates(context)
    if engine.on_spark():
        from ecom_assets.transforms import bronze_spark

        with bronze_spark.read_landing_partitions(engine.spark_session(spark), lake, days) as lines:
            return engine.write_with_spark(context, spark, lines)
    landing = LandingFiles(context.log)
    frames = landing.watch(landing_frames(lake, days))
    ahead = parse_ahead(context, lake)
    if ahead is None:
        return dg.Output(TableStream(frames, BRONZE_SCHEMA, landing.figures))
    return dg.Output(TableStream(ahead.watch(frames), BRONZE_SCHEMA, landing.figures, committed=ahead.file))
