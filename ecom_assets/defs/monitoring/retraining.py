"""What the sensors that request retraining share: their cursor (which materialisations they have seen,
what already triggered a retraining, when the last one was asked for) and the cooldown between two."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

import dagster as dg

# The module, not its job: the defs loader collects every job a module holds.
from ecom_assets.defs.ml import jobs as ml_jobs
from ecom_assets.defs.tables import asset_key
from ecom_assets.settings import get_settings

RECORDS_PER_TICK = 100
TRIGGERS_KEPT = 400  # more than a year of daily partitions


@dataclass(frozen=True)
class RetrainCursor:
    """Dagster stores it with the sensor, so it survives restarts."""

    after_storage_id: int | None = None
    last_retrain_at: str | None = None  # ISO time of the last retraining this sensor requested
    retrained: tuple[
        str, ...
    ] = ()  # triggers (e.g. drift partitions) that already requested one, newest last

    @classmethod
    def parse(cls, text: str | None) -> RetrainCursor:
        fields = json.loads(text) if text else {}
        return cls(**{**fields, "retrained": tuple(fields.get("retrained", ()))})

    def dumps(self) -> str:
        return json.dumps(asdict(self))

    def cooldown_note(self, now: dt.datetime, cooldown: dt.timedelta) -> str | None:
        """Why a retraining must wait, or None when one may be requested now."""
        if self.last_retrain_at is None:
            return None
        last = dt.datetime.fromisoformat(self.last_retrain_at)
        if now >= last + cooldown:
            return None
        return (
            f"a retraining was requested at {last:%Y-%m-%d %H:%M} UTC; cooldown until "
            f"{last + cooldown:%Y-%m-%d %H:%M} UTC"
        )

    def requested(self, trigger: str, now: dt.datetime) -> RetrainCursor:
        return replace(
            self, last_retrain_at=now.isoformat(), retrained=(*self.retrained, trigger)[-TRIGGERS_KEPT:]
        )

    def seen(self, records: list[dg.EventLogRecord]) -> RetrainCursor:
        return replace(self, after_storage_id=records[-1].storage_id) if records else self


def retrain_sensor(name: str, description: str) -> Callable:
    """The decorator of a sensor that requests ``retrain_job``: it only reacts to other runs, so it is on
    by default."""
    return dg.sensor(
        name=name,
        job=ml_jobs.retrain_job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=description,
    )


def new_materializations(
    context: dg.SensorEvaluationContext, table: str, cursor: RetrainCursor
) -> list[dg.EventLogRecord]:
    """Materialisations of ``table`` since the cursor, oldest first.

    A sensor with no cursor yet (just deployed, or reset) judges only the newest one: older alerts are
    history, and one retraining on today's data answers them all.
    """
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key(table), after_storage_id=cursor.after_storage_id),
        limit=RECORDS_PER_TICK if context.cursor else 1,
        ascending=bool(context.cursor),
    ).records
    return list(records)


def cooldown_or_setting(cooldown: dt.timedelta | None) -> dt.timedelta:
    """The sensor's own cooldown, else ``ECOM_RETRAIN_COOLDOWN_HOURS`` read at this evaluation."""
    return cooldown if cooldown is not None else dt.timedelta(hours=get_settings().retrain_cooldown_hours)


def sensor_result(
    context: dg.SensorEvaluationContext,
    requests: list[dg.RunRequest],
    notes: list[str],
    cursor: RetrainCursor,
) -> dg.SensorResult:
    """Run requests with the notes in the log, or a skip that says why."""
    if not requests:
        return dg.SensorResult(skip_reason=dg.SkipReason("; ".join(notes)), cursor=cursor.dumps())
    context.log.info("; ".join(notes))
    return dg.SensorResult(run_requests=requests, cursor=cursor.dumps())
