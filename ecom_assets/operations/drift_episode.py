"""The drift episode of ``ecom demo``: a drifted day's report, the retraining its alert triggers, and what
``ml/champion`` decides on its candidate (in the demo, shadowing it first as challenger).

The Dagster daemon is not running during the demo, so the episode evaluates ``drift_retrain_sensor``
once itself and launches the run it requests, tagged as the sensor's run so a daemon started later
does not launch it again.
"""

import datetime as dt

import dagster as dg
import polars as pl
from rich.console import Console
from rich.table import Table

from ecom_assets.definitions import defs
from ecom_assets.defs.monitoring.retraining import RetrainCursor
from ecom_assets.defs.monitoring.sensors import drift_retrain_sensor
from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import BATCH_SCORES, CHAMPION, DRIFT_REPORT
from ecom_assets.ml.drift import report_path
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.operations.materialize import materialize_range
from ecom_assets.storage.lake import Lake

SHOWN_ROWS = 6
# The demo's retraining shadows its candidate first, so the challenger's realised outcomes decide.
SHADOW_FIRST = {"shadow_new_candidates": True}


def _latest_drift_storage_id(instance: dg.DagsterInstance) -> int | None:
    records = instance.fetch_materializations(asset_key(DRIFT_REPORT), limit=1).records
    return records[0].storage_id if records else None


def _drift_table(drift: pl.DataFrame, day: dt.date) -> Table:
    table = Table("kind", "name", "PSI", "status", title=f"Drift {day}, most drifted first")
    for row in drift.sort("psi", descending=True).head(SHOWN_ROWS).iter_rows(named=True):
        table.add_row(row["kind"], row["name"], f"{row['psi']:.3f}", row["status"])
    return table


def _retrain(request: dg.RunRequest, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    tags = {
        **request.tags,
        "dagster/run_key": str(request.run_key),
        "dagster/sensor_name": drift_retrain_sensor.name,
    }
    return defs.resolve_job_def(str(drift_retrain_sensor.job_name)).execute_in_process(
        instance=instance,
        partition_key=request.partition_key,
        tags=tags,
        run_config={
            "loggers": {"console": {"config": {"log_level": "WARNING"}}},
            "ops": {"ml__champion": {"config": SHADOW_FIRST}},
        },
        raise_on_error=False,
    )


def run_drift_episode(day: dt.date, instance: dg.DagsterInstance, console: Console) -> None:
    """Batch scores and drift report of ``day``, then what the drift sensor does about them."""
    lake = Lake.from_settings()
    registry = ModelRegistry(lake)
    cursor = RetrainCursor(after_storage_id=_latest_drift_storage_id(instance)).dumps()
    selection = f'key:"{BATCH_SCORES}" or key:"{DRIFT_REPORT}"'
    materialize_range(day, day, selection=selection, instance=instance, console=console)
    console.print(_drift_table(lake.read_table(DRIFT_REPORT, "as_of_date", [day]), day))
    console.print(f"evidently report: {lake.uri}/{report_path(day)}")

    context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    tick = drift_retrain_sensor.evaluate_tick(context)
    if not tick.run_requests:
        console.print(f"drift_retrain_sensor skips: {tick.skip_message}")
        return
    (request,) = tick.run_requests
    before = registry.champion_version()
    console.print(
        f"drift_retrain_sensor requests retrain_job for {request.partition_key} ({request.run_key})"
    )
    run = _retrain(request, instance)
    for evaluation in run.get_asset_check_evaluations():
        verdict = "passed" if evaluation.passed else "failed"
        console.print(f"promotion gate {verdict}: {evaluation.description}")
    (decision,) = [
        event.materialization.metadata["decision"].value
        for event in run.get_asset_materialization_events()
        if event.asset_key == asset_key(CHAMPION)
    ]
    after = registry.champion_version()
    console.print(
        f"ml/champion: {decision}; champion {before} → {after}, which a running scoring service picks up"
        if after != before
        else f"ml/champion: {decision}"
    )
