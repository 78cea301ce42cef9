"""What the Silver checks judge, counted on the frame the asset writes (no second read of the table)."""

import datetime as dt
from dataclasses import dataclass

import polars as pl

from ecom_assets.events.schema import EVENT_TYPES
from ecom_assets.transforms.silver import SilverResult

KEYS = ("event_id", "event_type", "event_ts", "event_date", "session_id", "anonymous_id")


@dataclass(frozen=True)
class SilverFigures:
    duplicate_ids: int
    null_counts: dict[str, int]
    outside_partition: int
    unknown_event_types: int
    negative_prices: int
    rejected: int
    lines_read: int


def silver_figures(result: SilverResult, event_dates: list[dt.date]) -> SilverFigures:
    events = result.events
    outside = (pl.col("event_ts").dt.date() != pl.col("event_date")) | ~pl.col("event_date").is_in(
        event_dates
    )
    return SilverFigures(
        duplicate_ids=events.height - events["event_id"].n_unique(),
        null_counts=events.select(pl.col(KEYS).null_count()).row(0, named=True),
        outside_partition=events.filter(outside).height,
        unknown_event_types=events.filter(~pl.col("event_type").is_in(EVENT_TYPES)).height,
        negative_prices=events.filter(pl.col("price") < 0).height,
        rejected=result.rejected.height,
        lines_read=result.lines_read,
    )
