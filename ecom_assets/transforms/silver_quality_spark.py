"""The Silver check figures on Spark, in one aggregation: the same as :mod:`silver_quality`."""

import datetime as dt

from pyspark.sql import functions as F

from ecom_assets.events.schema import EVENT_TYPES
from ecom_assets.transforms.silver_quality import KEYS, SilverFigures
from ecom_assets.transforms.silver_spark import SilverResult


def _rows_where(condition) -> F.Column:
    return F.sum(F.when(condition, 1).otherwise(0))


def silver_figures(result: SilverResult, event_dates: list[dt.date]) -> SilverFigures:
    outside = (F.to_date("event_ts") != F.col("event_date")) | ~F.col("event_date").isin(event_dates)
    counts = result.events.agg(
        (F.count(F.lit(1)) - F.count_distinct("event_id")).alias("duplicate_ids"),
        *(_rows_where(F.col(key).isNull()).alias(key) for key in KEYS),
        _rows_where(outside).alias("outside_partition"),
        _rows_where(~F.col("event_type").isin(*EVENT_TYPES)).alias("unknown_event_types"),
        _rows_where(F.col("price") < 0).alias("negative_prices"),
    ).first()
    figures = {name: int(value or 0) for name, value in counts.asDict().items()} if counts else {}
    return SilverFigures(
        duplicate_ids=figures["duplicate_ids"],
        null_counts={key: figures[key] for key in KEYS},
        outside_partition=figures["outside_partition"],
        unknown_event_types=figures["unknown_event_types"],
        negative_prices=figures["negative_prices"],
        rejected=result.rejected.count(),
        lines_read=result.lines_read,
    )
