"""deploy/dagster.yaml on a real PostgreSQL: `ecom materialize` and the run of a schedule tick keep their
runs and events there, read back through Dagster and straight from the tables; a sensor tick reads its
drift reports from there; the queue, retries, monitoring and Azure compute logs are as configured."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from azure.core.credentials import AzureNamedKeyCredential
from azure.storage.blob import BlobServiceClient
from dagster._utils.tags import TagConcurrencyLimitsCounter
from dagster_azure.blob.compute_log_manager import AzureBlobComputeLogManager
from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage, PostgresScheduleStorage

from ecom_assets.definitions import defs
from ecom_assets.defs.tables import asset_key
from ecom_assets.events.simulator import simulate
from ecom_assets.keys import DRIFT_REPORT
from ecom_assets.storage.lake import Lake
from ecom_assets_tests.postgres import DEPLOY

ECOM = Path(sys.executable).with_name("ecom")
DAY = dt.date(2026, 10, 2)


def ecom(*arguments: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(ECOM), *arguments], env=os.environ, capture_output=True, text=True)
    assert result.returncode == 0, f"ecom {' '.join(arguments)}: {result.stderr[-3000:]}"
    return result


def stored_runs(postgres) -> dict[str, tuple[str, str]]:
    """run_id -> (job, status), straight from Dagster's `runs` table."""
    rows = postgres.query(os.environ["DAGSTER_PG_DB"], "SELECT run_id, pipeline_name, status FROM runs")
    return {run_id: (job, status) for run_id, job, status in rows}


def stored_tags(postgres, run_id: str) -> dict[str, str]:
    sql = "SELECT key, value FROM run_tags WHERE run_id = %s"
    return dict(postgres.query(os.environ["DAGSTER_PG_DB"], sql, (run_id,)))


def test_the_deploy_instance_keeps_everything_in_postgres_queues_retries_and_monitors(postgres_dagster_home):
    instance = dg.DagsterInstance.get()

    assert isinstance(instance.run_storage, PostgresRunStorage)
    assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
    assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
    assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
    assert (instance.run_retries_enabled, instance.run_retries_max_retries) == (True, 2)
    assert instance.run_monitoring_enabled


def test_ecom_materialize_stores_its_runs_in_postgres(postgres_dagster_home, postgres):
    ecom("simulate", "--start", DAY.isoformat(), "--days", "2", "--customers", "40")

    ecom("materialize", "--start", DAY.isoformat(), "--end", DAY.isoformat(), "--select", "group:bronze")

    assert not (postgres_dagster_home / "history").exists(), "no SQLite storage beside the Postgres one"
    runs = dg.DagsterInstance.get().get_runs()
    assert [run.status for run in runs] == [dg.DagsterRunStatus.SUCCESS]
    assert runs[0].tags["ecom/step"] == "bronze and rejects"
    assert stored_runs(postgres) == {runs[0].run_id: (runs[0].job_name, "SUCCESS")}
    materialised = dg.DagsterInstance.get().get_materialized_partitions(dg.AssetKey(["bronze", "events"]))
    assert DAY.isoformat() in materialised


def test_a_schedule_tick_runs_the_medallion_range_on_postgres(postgres_dagster_home, postgres):
    instance = dg.DagsterInstance.get()
    simulate(Lake.from_settings(), start=DAY - dt.timedelta(days=3), days=4, customers=40, progress=False)
    schedule = defs.resolve_schedule_def("daily_medallion_schedule")
    tick_time = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(1, 30), tzinfo=dt.UTC)

    with dg.build_schedule_context(instance=instance, scheduled_execution_time=tick_time) as context:
        [request] = schedule.evaluate_tick(context).run_requests
    result = defs.resolve_job_def(schedule.job_name).execute_in_process(
        instance=instance, tags={**request.tags, "dagster/schedule_name": schedule.name}
    )

    assert result.success
    assert stored_runs(postgres) == {result.run_id: ("medallion_job", "SUCCESS")}
    assert stored_tags(postgres, result.run_id)["dagster/asset_partition_range_end"] == DAY.isoformat()
    silver_days = instance.get_materialized_partitions(dg.AssetKey(["silver", "events"]))
    assert DAY.isoformat() in silver_days


def report_drift(instance: dg.DagsterInstance, day: dt.date, status: str, max_psi: float) -> None:
    metadata = {"status": status, "max_psi": max_psi}
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key(DRIFT_REPORT), partition=day.isoformat(), metadata=metadata)
    )


def test_sensor_ticks_read_drift_reports_from_postgres(postgres_dagster_home):
    instance = dg.DagsterInstance.get()
    sensor = defs.resolve_sensor_def("drift_retrain_sensor")
    report_drift(instance, DAY, "alert", 0.31)

    with dg.build_sensor_context(instance=instance, definitions=defs) as context:
        first = sensor.evaluate_tick(context)
    report_drift(instance, DAY + dt.timedelta(days=1), "ok", 0.02)
    with dg.build_sensor_context(instance=instance, cursor=first.cursor, definitions=defs) as context:
        second = sensor.evaluate_tick(context)

    [request] = first.run_requests
    assert (request.partition_key, request.tags["ecom/trigger"]) == (DAY.isoformat(), "drift")
    assert second.run_requests == [] and "no retraining needed" in second.skip_message


def test_only_one_retraining_runs_at_a_time(postgres_dagster_home):
    instance = dg.DagsterInstance.get()
    retrain_job, medallion_job = defs.resolve_job_def("retrain_job"), defs.resolve_job_def("medallion_job")
    retraining = retrain_job.tags  # every retraining run carries them
    running = instance.create_run_for_job(retrain_job, status=dg.DagsterRunStatus.STARTED, tags=retraining)
    # what the daemon's queue weighs before it launches a run (queued runs also need a code location)
    waiting = instance.create_run_for_job(retrain_job, tags=retraining)
    daily = instance.create_run_for_job(medallion_job)

    limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
    in_progress = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
    queue = TagConcurrencyLimitsCounter(limits, list(in_progress))

    assert [run.run_id for run in in_progress] == [running.run_id]
    assert queue.is_blocked(instance.get_run_by_id(waiting.run_id))
    assert not queue.is_blocked(instance.get_run_by_id(daily.run_id))


@dg.asset
def chatty_step() -> None:
    print("chatty step says hello")


def test_the_azure_variant_keeps_each_steps_output_in_blob_storage(
    postgres_dagster_home, azure_blob_endpoint, monkeypatch
):
    # Azurite has no Entra ID: the account key stands in for DefaultAzureCredential, nothing else changes.
    azure = (DEPLOY / "dagster.azure.yaml").read_text()
    azure = azure.replace("default_azure_credential: {}", "access_key_or_sas_token:\n      env: LOGS_KEY")
    (postgres_dagster_home / "dagster.yaml").write_text((DEPLOY / "dagster.yaml").read_text() + azure)
    account, key = azure_blob_endpoint.account, azure_blob_endpoint.key
    for name, value in {
        "DAGSTER_COMPUTE_LOGS_ACCOUNT": account,
        "DAGSTER_COMPUTE_LOGS_CONTAINER": "logs",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LOGS_KEY", key)
    service = BlobServiceClient(
        f"https://{account}.blob.core.windows.net", AzureNamedKeyCredential(account, key)
    )
    container = service.create_container("logs")
    instance = dg.DagsterInstance.get()

    run = dg.materialize([chatty_step], instance=instance)

    assert isinstance(instance.compute_log_manager, AzureBlobComputeLogManager)
    prefix = f"dagster-compute-logs/storage/{run.run_id}/compute_logs/"
    [stdout] = [
        blob.name for blob in container.list_blobs(name_starts_with=prefix) if blob.name.endswith(".out")
    ]
    assert "chatty step says hello" in container.download_blob(stdout).readall().decode()
    assert isinstance(instance.run_storage, PostgresRunStorage)


@pytest.mark.parametrize("variable", ["DAGSTER_PG_HOST", "DAGSTER_PG_PASSWORD"])
def test_a_missing_connection_variable_is_named(postgres_dagster_home, monkeypatch, variable):
    monkeypatch.delenv(variable)

    with pytest.raises(dg.DagsterInvalidConfigError, match=variable):
        dg.DagsterInstance.get()
