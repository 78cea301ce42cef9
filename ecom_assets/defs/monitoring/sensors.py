"""Retrain when the drift report raises an alert, or when the champion's realised performance decays. The
sensors only react to other runs, so they are on by default."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from ecom_assets.defs.monitoring.retraining import (
    RetrainCursor,
    cooldown_or_setting,
    new_materializations,
    retrain_sensor,
    sensor_result,
)
from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import CUSTOMER_DAILY_FEATURES, DRIFT_REPORT, MODEL_PERFORMANCE
from ecom_assets.ml.decay import decay_of
from ecom_assets.ml.psi import INSUFFICIENT_HISTORY
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.settings import get_settings


def _drift_status(record: dg.EventLogRecord) -> tuple[str, str]:
    """(status, 'max PSI ...') of one drift partition; a ranged run records the status of each date."""
    materialization = record.asset_materialization
    metadata = materialization.metadata if materialization else {}
    by_date = metadata["status_by_date"].value if "status_by_date" in metadata else {}
    status = by_date.get(record.partition_key) if isinstance(by_date, dict) else None
    if status is None:
        status = str(metadata["status"].value) if "status" in metadata else "unknown"
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
    records: list[dg.EventLogRecord], cursor: RetrainCursor, cooldown: dt.timedelta, now: dt.datetime
) -> tuple[list[dg.RunRequest], list[str], RetrainCursor]:
    """Run requests for new alerts outside the cooldown, a note on every report, and the next cursor."""
    requests, notes = [], []
    for record in records:
        status, max_psi = _drift_status(record)
        partition = record.partition_key
        wait = cursor.cooldown_note(now, cooldown)
        if status == INSUFFICIENT_HISTORY:
            notes.append(f"drift {partition}: {status} (PSI not meaningful yet), no retraining")
        elif status != "alert":
            notes.append(f"drift {partition}: {status} ({max_psi}), no retraining needed")
        elif partition in cursor.retrained:
            notes.append(
                f"drift {partition}: alert ({max_psi}), but this partition already triggered a retraining"
            )
        elif wait:
            notes.append(f"drift {partition}: alert ({max_psi}), but {wait}")
        else:
            requests.append(_retrain_request(record, max_psi))
            notes.append(f"drift {partition}: alert ({max_psi}), retraining requested")
            cursor = cursor.requested(str(partition), now)
    return requests, notes, cursor.seen(records)


def build_drift_retrain_sensor(
    cooldown: dt.timedelta | None = None, name: str = "drift_retrain_sensor"
) -> dg.SensorDefinition:
    """The drift sensor; without ``cooldown`` it reads ``ECOM_RETRAIN_COOLDOWN_HOURS`` at each evaluation."""

    @retrain_sensor(
        name,
        "Requests retrain_job for a monitoring/drift_report partition whose status is alert, once per "
        "partition and at most once per cooldown.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        cursor = RetrainCursor.parse(context.cursor)
        records = new_materializations(context, DRIFT_REPORT, cursor)
        if not records:
            return dg.SkipReason("no new monitoring/drift_report materialisation since the last evaluation")
        wait = cooldown_or_setting(cooldown)
        requests, notes, cursor = decide_retraining(records, cursor, wait, dt.datetime.now(dt.UTC))
        return sensor_result(context, requests, notes, cursor)

    return _sensor


drift_retrain_sensor = build_drift_retrain_sensor()


def _latest_scored_day(instance: dg.DagsterInstance) -> str | None:
    partitions = instance.get_materialized_partitions(asset_key(CUSTOMER_DAILY_FEATURES))
    return max(partitions) if partitions else None


def build_decay_retrain_sensor(
    margin: float | None = None,
    days: int | None = None,
    cooldown: dt.timedelta | None = None,
    name: str = "decay_retrain_sensor",
) -> dg.SensorDefinition:
    """The decay sensor; unset arguments come from ``ECOM_DECAY_MARGIN``, ``ECOM_DECAY_DAYS`` and
    ``ECOM_RETRAIN_COOLDOWN_HOURS`` at each evaluation."""

    @retrain_sensor(
        name,
        "Requests retrain_job when the champion's realised ROC-AUC (monitoring/model_performance) stays "
        "below its validation ROC-AUC by a margin for several consecutive days, at most once per cooldown.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext, lake_resource: LakeResource
    ) -> dg.SensorResult | dg.SkipReason:
        cursor = RetrainCursor.parse(context.cursor)
        records = new_materializations(context, MODEL_PERFORMANCE, cursor)
        if not records:
            return dg.SkipReason(f"no new {MODEL_PERFORMANCE} materialisation since the last evaluation")
        cursor = cursor.seen(records)
        lake = lake_resource.get_lake()
        champion = ModelRegistry(lake).champion_version()
        if champion is None:
            return sensor_result(context, [], ["no champion to judge"], cursor)
        settings = get_settings()
        verdict = decay_of(
            lake.read_table(MODEL_PERFORMANCE),
            champion,
            settings.decay_margin if margin is None else margin,
            settings.decay_days if days is None else days,
        )
        if not verdict.decayed:
            return sensor_result(context, [], [verdict.reason], cursor)
        trigger = f"{champion}@{verdict.last_day}"
        held_back = (
            "this decay already triggered a retraining"
            if trigger in cursor.retrained
            else cursor.cooldown_note(dt.datetime.now(dt.UTC), cooldown_or_setting(cooldown))
        )
        if held_back:
            return sensor_result(context, [], [f"{verdict.reason}, but {held_back}"], cursor)
        request = dg.RunRequest(
            run_key=f"decay-retrain-{trigger}",
            partition_key=_latest_scored_day(context.instance) or str(verdict.last_day),
            tags={"ecom/trigger": "decay", "ecom/decay": verdict.reason[:200]},
        )
        notes = [f"{verdict.reason}: retraining requested"]
        return sensor_result(context, [request], notes, cursor.requested(trigger, dt.datetime.now(dt.UTC)))

    return _sensor


decay_retrain_sensor = build_decay_retrain_sensor()
