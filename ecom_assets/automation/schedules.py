"""Schedules: the daily run for yesterday, re-processing the late-arrival window before it."""

import datetime as dt

import dagster as dg

from ecom_assets.automation.jobs import medallion_job, retrain_job
from ecom_assets.settings import get_settings


def partition_range_tags(start: dt.date, end: dt.date) -> dict[str, str]:
    """Run tags that make one run materialise a range of daily partitions (single-run backfill)."""
    return {
        "dagster/asset_partition_range_start": start.isoformat(),
        "dagster/asset_partition_range_end": end.isoformat(),
    }


@dg.schedule(job=medallion_job, cron_schedule="30 1 * * *", execution_timezone="UTC")
def daily_medallion_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Yesterday's partition, and the days before it whose late events may still have arrived yesterday."""
    yesterday = context.scheduled_execution_time.date() - dt.timedelta(days=1)
    first = yesterday - dt.timedelta(days=get_settings().late_window_days)
    return dg.RunRequest(run_key=yesterday.isoformat(), tags=partition_range_tags(first, yesterday))


@dg.schedule(job=retrain_job, cron_schedule="0 4 * * 1", execution_timezone="UTC")
def weekly_retrain_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """The time-based fallback to drift retraining: every Monday, retrain on the latest labels, gate the
    candidate, and re-score yesterday with whichever model is champion after the gate."""
    yesterday = context.scheduled_execution_time.date() - dt.timedelta(days=1)
    return dg.RunRequest(
        run_key=f"weekly-retrain-{yesterday.isoformat()}",
        partition_key=yesterday.isoformat(),
        tags={"ecom/trigger": "schedule"},
    )
