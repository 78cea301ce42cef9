"""Sensors: retrain when the drift report raises an alert; score, measure drift and label after each
daily medallion run. Both only react to other runs, so they are on by default."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

import dagster as dg

from ecom_assets.assets.monitoring import DRIFT_REPORT
from ecom_assets.automation.jobs import daily_ml_job, label_job, medallion_job, retrain_job
from ecom_assets.automation.schedules import partition_range_tags
from ecom_assets.partitions import LABEL_HORIZON_DAYS, daily_partitions
from ecom_assets.settings import get_settings

REPORTS_PER_TICK = 100
RETRAINED_KEPT = 400  # more than a year of daily partitions


@dataclass(frozen=True)
class DriftCursor:
    """What the drift sensor has seen; Dagster stores it with the sensor, so it survives restarts."""

    after_storage_id: int | None = None
    last_retrain_at: str | None = None  # ISO time of the last retraining this sensor requested
    retrained: tuple[str, ...] = ()  # drift partitions that already triggered one, newest last

    @classmethod
    def parse(cls, text: str | None) -> DriftCursor:
        fields = json.loads(text) if text else {}
        return cls(**{**fields, "retrained": tuple(fields.get("retrained", ()))})

    def dumps(self) -> str:
        return json.dumps(asdict(self))


def _drift_status(record: dg.EventLogRecord) -> tuple[str, str]:
    """(status, 'max PSI ...') of one drift partition; a ranged run records the status of each date."""
    metadata = record.asset_materialization.metadata
    by_date = metadata["status_by_date"].value if "status_by_date" in metadata else {}
    status = by_date.get(record.partition_key) or (
        metadata["status"].value if "status" in metadata else "unknown"
    )
    max_psi = f"max PSI {metadata['max_psi'].value:.3f}" if "max_psi" in metadata else "no PSI recorded"
    return status, max_psi


def _retrain_request(record: dg.EventLogRecord, max_psi: str) -> dg.RunRequest:
    partition = record.partition_key
    return dg.RunRequest(
        # One drift partition retrains at most once, however often the sensor or the report runs again.
        run_key=f"drift-retrain-{partition}",
        partition_key=partition,
        tags={"ecom/trigger": "drift", "ecom/drift_partition": partition, "ecom/drift": max_psi},
    )


def decide_retraining(
    records: list[dg.EventLogRecord], cursor: DriftCursor, cooldown: dt.timedelta, now: dt.datetime
) -> tuple[list[dg.RunRequest], list[str], DriftCursor]:
    """Run requests for new alerts outside the cooldown, a note on every report, and the next cursor."""
    requests, notes, retrained = [], [], list(cursor.retrained)
    last = dt.datetime.fromisoformat(cursor.last_retrain_at) if cursor.last_retrain_at else None
    for record in records:
        status, max_psi = _drift_status(record)
        partition = record.partition_key
        if status != "alert":
            notes.append(f"drift {partition}: {status} ({max_psi}), no retraining needed")
        elif partition in retrained:
            notes.append(
                f"drift {partition}: alert ({max_psi}), but this partition already triggered a retraining"
            )
        elif last is not None and now < last + cooldown:
            notes.append(
                f"drift {partition}: alert ({max_psi}), but a retraining was requested at "
                f"{last:%Y-%m-%d %H:%M} UTC; cooldown until {last + cooldown:%Y-%m-%d %H:%M} UTC"
            )
        else:
            requests.append(_retrain_request(record, max_psi))
            notes.append(f"drift {partition}: alert ({max_psi}), retraining requested")
            retrained.append(partition)
            last = now
    return (
        requests,
        notes,
        DriftCursor(
            after_storage_id=records[-1].storage_id if records else cursor.after_storage_id,
            last_retrain_at=last.isoformat() if last else None,
            retrained=tuple(retrained[-RETRAINED_KEPT:]),
        ),
    )


def build_drift_retrain_sensor(
    cooldown: dt.timedelta | None = None, name: str = "drift_retrain_sensor"
) -> dg.SensorDefinition:
    """The drift sensor; without ``cooldown`` it reads ``ECOM_RETRAIN_COOLDOWN_HOURS`` at each evaluation."""

    @dg.sensor(
        name=name,
        job=retrain_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests retrain_job for a monitoring/drift_report partition whose status is alert, "
        "once per partition and at most once per cooldown.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        cursor = DriftCursor.parse(context.cursor)
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=DRIFT_REPORT, after_storage_id=cursor.after_storage_id),
            # A sensor with no cursor yet (just deployed, or reset) judges only the newest report: older
            # alerts are history, and one retraining on today's data answers them all.
            limit=REPORTS_PER_TICK if context.cursor else 1,
            ascending=bool(context.cursor),
        ).records
        if not records:
            return dg.SkipReason("no new monitoring/drift_report materialisation since the last evaluation")
        wait = cooldown if cooldown is not None else dt.timedelta(hours=get_settings().retrain_cooldown_hours)
        requests, notes, cursor = decide_retraining(list(records), cursor, wait, dt.datetime.now(dt.UTC))
        if not requests:
            return dg.SensorResult(skip_reason=dg.SkipReason("; ".join(notes)), cursor=cursor.dumps())
        context.log.info("; ".join(notes))
        return dg.SensorResult(run_requests=requests, cursor=cursor.dumps())

    return _sensor


drift_retrain_sensor = build_drift_retrain_sensor()


def _run_partitions(run: dg.DagsterRun) -> tuple[dt.date, dt.date] | None:
    tags = run.tags
    end = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
    start = tags.get("dagster/asset_partition_range_start") or end
    return (dt.date.fromisoformat(start), dt.date.fromisoformat(end)) if end else None


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[medallion_job],
    request_jobs=[daily_ml_job, label_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    name="daily_ml_after_medallion_sensor",
)
def daily_ml_after_medallion_sensor(context: dg.RunStatusSensorContext):
    """After the medallion run of D: batch scores and drift of D, and the labels whose look-ahead just
    completed (the run's days minus 7, since late events of those days may change them)."""
    days = _run_partitions(context.dagster_run)
    if days is None:
        return dg.SkipReason(f"medallion run {context.dagster_run.run_id} has no partition to follow up")
    start, end = days
    run_id = context.dagster_run.run_id
    requests = [
        dg.RunRequest(run_key=f"{run_id}-ml", job_name=daily_ml_job.name, partition_key=end.isoformat())
    ]
    horizon = dt.timedelta(days=LABEL_HORIZON_DAYS)
    first_partition = dt.date.fromisoformat(daily_partitions.get_first_partition_key())
    label_start, label_end = max(start - horizon, first_partition), end - horizon
    if label_end >= first_partition:
        requests.append(
            dg.RunRequest(
                run_key=f"{run_id}-labels",
                job_name=label_job.name,
                tags=partition_range_tags(label_start, label_end),
            )
        )
    return requests
