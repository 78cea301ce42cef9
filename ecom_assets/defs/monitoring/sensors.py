"""Retrain when the drift report raises an alert. The sensor only reacts to other runs, so it is on by
default."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass

import dagster as dg

from ecom_assets.defs.ml import jobs as ml_jobs
from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import DRIFT_REPORT
from ecom_assets.ml.psi import INSUFFICIENT_HISTORY
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
        if status == INSUFFICIENT_HISTORY:
            notes.append(f"drift {partition}: {status} (PSI not meaningful yet), no retraining")
        elif status != "alert":
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
        job=ml_jobs.retrain_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Requests retrain_job for a monitoring/drift_report partition whose status is alert, "
        "once per partition and at most once per cooldown.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        cursor = DriftCursor.parse(context.cursor)
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=asset_key(DRIFT_REPORT), after_storage_id=cursor.after_storage_id
            ),
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
