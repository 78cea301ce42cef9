"""The daily medallion run: landing → Bronze → Silver → Gold, re-processing the late-arrival window."""

import datetime as dt

import dagster as dg

from ecom_assets.defs.partitions import daily_partitions, partition_range_tags
from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import LABEL_PURCHASE_NEXT_7D
from ecom_assets.settings import get_settings

# Labels wait for their seven-day look-ahead: label_job runs them for D-7 once D has landed.
medallion_job = dg.define_asset_job(
    "medallion_job",
    selection=dg.AssetSelection.groups("bronze", "silver", "gold")
    - dg.AssetSelection.assets(asset_key(LABEL_PURCHASE_NEXT_7D)),
    partitions_def=daily_partitions,
    description="Landing → Bronze → Silver → Gold for a range of days (late arrivals re-processed).",
)


@dg.schedule(job=medallion_job, cron_schedule="30 1 * * *", execution_timezone="UTC")
def daily_medallion_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Yesterday's partition, and the days before it whose late events may still have arrived yesterday."""
    yesterday = context.scheduled_execution_time.date() - dt.timedelta(days=1)
    first = yesterday - dt.timedelta(days=get_settings().late_window_days)
    return dg.RunRequest(run_key=yesterday.isoformat(), tags=partition_range_tags(first, yesterday))
