"""The one daily partitions definition and the named mappings between layers."""

import datetime as dt

import dagster as dg

from ecom_assets.settings import get_settings

FEATURE_LOOKBACK_DAYS = 28
LABEL_HORIZON_DAYS = 7

daily_partitions = dg.DailyPartitionsDefinition(start_date=get_settings().partitions_start, timezone="UTC")

# Silver/event-date partition D reads the arrival-date partitions D .. D+late window, so an event that
# arrives up to that many days late still lands in its true event date.
late_arrivals = dg.TimeWindowPartitionMapping(
    start_offset=0, end_offset=get_settings().late_window_days, allow_nonexistent_upstream_partitions=True
)

# Features as of D see exactly the event dates D-27 .. D: nothing after D can leak in.
feature_lookback = dg.TimeWindowPartitionMapping(
    start_offset=-(FEATURE_LOOKBACK_DAYS - 1), end_offset=0, allow_nonexistent_upstream_partitions=True
)

# The label as of D looks at D+1 .. D+7 only, and cannot run before those partitions exist.
label_horizon = dg.TimeWindowPartitionMapping(start_offset=1, end_offset=LABEL_HORIZON_DAYS)


def partition_dates(context: dg.AssetExecutionContext) -> list[dt.date]:
    """The dates of the partitions a run materialises (one, or a whole backfill range)."""
    return [dt.date.fromisoformat(key) for key in context.partition_keys]
