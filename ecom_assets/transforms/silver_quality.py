"""What the Silver checks judge, counted on the frames the asset writes (no second read of the table)."""

import datetime as dt
from collections import Counter
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


class SilverTally:
    """The check figures of Silver events written a date at a time, summed as they pass.

    Uniqueness across dates is judged on 64-bit hashes of the ids (80 MB for 10M events, where the ids
    themselves would take 500 MB): two different ids colliding is a one-in-10^9 false alarm.
    """

    def __init__(self, event_dates: list[dt.date]):
        self._event_dates = event_dates
        self._counts: Counter[str] = Counter()
        self._id_hashes: list[pl.Series] = []
        self.events_by_type: Counter[str] = Counter()

    def add(self, events: pl.DataFrame, duplicates: int = 0) -> None:
        """Count ``events`` (and the ``duplicates`` dropped to make them)."""
        outside = (pl.col("event_ts").dt.date() != pl.col("event_date")) | ~pl.col("event_date").is_in(
            self._event_dates
        )
        counts = events.select(
            rows=pl.len(),
            outside_partition=outside.sum(),
            unknown_event_types=(~pl.col("event_type").is_in(EVENT_TYPES)).sum(),
            negative_prices=(pl.col("price") < 0).sum(),
            customer_id_backfilled=pl.col("customer_id_backfilled").sum(),
            **{f"null:{key}": pl.col(key).null_count() for key in KEYS},
        )
        self._counts.update({name: int(value or 0) for name, value in counts.row(0, named=True).items()})
        self._counts["duplicates"] += duplicates
        self._id_hashes.append(events["event_id"].hash(seed=0))
        self.events_by_type.update(dict(events["event_type"].value_counts().iter_rows()))

    @property
    def rows(self) -> int:
        return self._counts["rows"]

    @property
    def duplicates(self) -> int:
        return self._counts["duplicates"]

    @property
    def customer_id_backfilled(self) -> int:
        return self._counts["customer_id_backfilled"]

    def figures(self, rejected: int, lines_read: int) -> SilverFigures:
        id_hashes = pl.concat(self._id_hashes) if self._id_hashes else pl.Series(dtype=pl.UInt64)
        return SilverFigures(
            duplicate_ids=id_hashes.len() - id_hashes.n_unique(),
            null_counts={key: self._counts[f"null:{key}"] for key in KEYS},
            outside_partition=self._counts["outside_partition"],
            unknown_event_types=self._counts["unknown_event_types"],
            negative_prices=self._counts["negative_prices"],
            rejected=rejected,
            lines_read=lines_read,
        )


def silver_figures(result: SilverResult, event_dates: list[dt.date]) -> SilverFigures:
    tally = SilverTally(event_dates)
    tally.add(result.events)
    return tally.figures(rejected=result.rejected.height, lines_read=result.lines_read)
