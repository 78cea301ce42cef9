"""Retraining and daily scoring: the jobs, the weekly retraining schedule, and the daily follow-up of each
medallion run."""

import datetime as dt

import dagster as dg

# Modules, not their jobs: the defs loader collects every job a module holds, so importing the job
# objects here would list them twice.
from ecom_assets.defs.features import jobs as feature_jobs
from ecom_assets.defs.medallion import jobs as medallion_jobs
from ecom_assets.defs.monitoring import jobs as monitoring_jobs
from ecom_assets.defs.partitions import daily_partitions, first_partition, partition_range_tags
from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import BATCH_SCORES, CHAMPION, DRIFT_REPORT, PROPENSITY_MODEL
from ecom_assets.transforms.labels import LABEL_HORIZON_DAYS

# The instance's run coordinator (dagster.yaml, tag_concurrency_limits) runs one run with this tag at a
# time, so two retrainings never race for the champion pointer.
RETRAINING_TAGS = {"ecom/retrain": "true"}

retrain_job = dg.define_asset_job(
    "retrain_job",
    selection=dg.AssetSelection.assets(
        asset_key(PROPENSITY_MODEL), asset_key(CHAMPION), asset_key(BATCH_SCORES)
    ),
    partitions_def=daily_partitions,
    tags=RETRAINING_TAGS,
    description="Retrain: training set → ml/propensity_model (judged by promotion_gate) → ml/champion → "
    "ml/batch_scores of the partition, scored by whichever model is champion after the decision.",
)

daily_ml_job = dg.define_asset_job(
    "daily_ml_job",
    selection=dg.AssetSelection.assets(asset_key(BATCH_SCORES), asset_key(DRIFT_REPORT)),
    partitions_def=daily_partitions,
    description="Score the customers of D with the champion, then measure the drift of D against it.",
)


@dg.schedule(job=retrain_job, cron_schedule="0 4 * * 1", execution_timezone="UTC")
def weekly_retrain_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """The time-based fallback to drift retraining: every Monday, retrain on the latest labels, decide the
    champion, and re-score yesterday with it."""
    yesterday = context.scheduled_execution_time.date() - dt.timedelta(days=1)
    return dg.RunRequest(
        run_key=f"weekly-retrain-{yesterday.isoformat()}",
        partition_key=yesterday.isoformat(),
        tags={"ecom/trigger": "schedule"},
    )


def _run_partitions(run: dg.DagsterRun) -> tuple[dt.date, dt.date] | None:
    tags = run.tags
    end = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
    start = tags.get("dagster/asset_partition_range_start") or end
    return (dt.date.fromisoformat(start), dt.date.fromisoformat(end)) if end and start else None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[medallion_jobs.medallion_job],
    request_jobs=[daily_ml_job, feature_jobs.label_job, monitoring_jobs.model_performance_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    name="daily_ml_after_medallion_sensor",
)
def daily_ml_after_medallion_sensor(context: dg.RunStatusSensorContext):
    """After the medallion run of D: batch scores and drift of D, and the labels and realised performance
    whose look-ahead just completed (the run's days minus 7, since late events of those days may change
    them)."""
    days = _run_partitions(context.dagster_run)
    if days is None:
        return dg.SkipReason(f"medallion run {context.dagster_run.run_id} has no partition to follow up")
    start, end = days
    run_id = context.dagster_run.run_id
    requests = [
        dg.RunRequest(run_key=f"{run_id}-ml", job_name=daily_ml_job.name, partition_key=end.isoformat())
    ]
    horizon = dt.timedelta(days=LABEL_HORIZON_DAYS)
    label_start, label_end = max(start - horizon, first_partition()), end - horizon
    if label_end >= first_partition():
        requests += [
            dg.RunRequest(
                run_key=f"{run_id}-{suffix}",
                job_name=job.name,
                tags=partition_range_tags(label_start, label_end),
            )
            for suffix, job in (
                ("labels", feature_jobs.label_job),
                ("performance", monitoring_jobs.model_performance_job),
            )
        ]
    return requests
