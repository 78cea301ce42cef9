"""The one daily partitions definition and the named mappings between layers."""

import datetime as dt
from collections.abc import Iterable

import dagster as dg

from ecom_assets.settings import get_settings
from ecom_assets.transforms.features import FEATURE_LOOKBACK_DAYS
from ecom_assets.transforms.labels import LABEL_HORIZON_DAYS
from ecom_assets.transforms.silver import SESSION_SPAN_DAYS

daily_partitions = dg.DailyPartitionsDefinition(start_date=get_settings().partitions_start, timezone="UTC")

# Silver/event-date partition D reads the arrival-date partitions D-1 .. D+late window: an event that
# arrives up to that many days late still lands in its true event date, and a session that crosses
# midnight is seen whole (``transforms.silver.arrival_window``).
late_arrivals = dg.TimeWindowPartitionMapping(
    start_offset=-SESSION_SPAN_DAYS,
    end_offset=get_settings().late_window_days,
    allow_nonexistent_upstream_partitions=True,
)

# Features as of D read exactly the daily activity dated D-89 .. D: nothing after D can leak in.
activity_lookback = dg.TimeWindowPartitionMapping(
    start_offset=-(FEATURE_LOOKBACK_DAYS - 1), end_offset=0, allow_nonexistent_upstream_partitions=True
)

# The label as of D looks at D+1 .. D+7 only, and cannot run before those partitions exist.
label_horizon = dg.TimeWindowPartitionMapping(start_offset=1, end_offset=LABEL_HORIZON_DAYS)


def dates_of(partition_keys: Iterable[str]) -> list[dt.date]:
    """Daily partition keys as dates, oldest first."""
    return sorted(dt.date.fromisoformat(key) for key in partition_keys)


def partition_dates(context: dg.AssetExecutionContext) -> list[dt.date]:
    """The dates of the partitions a run materialises (one, or a whole backfill range)."""
    return dates_of(context.partition_keys)


def partition_range_tags(start: dt.date, end: dt.date) -> dict[str, str]:
    """Run tags that make one run materialise a range of daily partitions (single-run backfill)."""
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
    }


def first_partition() -> dt.date:
    return dt.date.fromisoformat(daily_partitions.start.date().isoformat())


def last_partition() -> dt.date:
    """Yesterday in UTC: the newest complete day (daily partitions end there)."""
    last = daily_partitions.get_last_partition_key()
    if last is None:
        raise ValueError(f"no daily partition has ended yet: ECOM_PARTITIONS_START is {first_partition()}")
    return dt.date.fromisoformat(last)
