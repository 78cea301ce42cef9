"""Drift report, drift sensor and schedules on a real Dagster instance and a temporary lake.

The inputs are small and built here (a three-feature champion, its features and batch scores), so
these tests do not depend on the rest of the pipeline.
"""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression

from ecom_assets.defs.features import assets as features
from ecom_assets.defs.medallion import gold
from ecom_assets.defs.ml import assets as ml
from ecom_assets.defs.ml import champion
from ecom_assets.defs.ml.jobs import daily_ml_after_medallion_sensor, retrain_job, weekly_retrain_schedule
from ecom_assets.defs.monitoring.assets import DriftReportConfig, drift_report
from ecom_assets.defs.monitoring.retraining import RetrainCursor
from ecom_assets.defs.monitoring.sensors import build_drift_retrain_sensor, drift_retrain_sensor
from ecom_assets.defs.partitions import daily_partitions, partition_range_tags
from ecom_assets.defs.resources import build_resources
from ecom_assets.keys import DRIFT_REPORT
from ecom_assets.ml.batch_scores import require_champion, score_features
from ecom_assets.ml.drift import DRIFT_SCHEMA, DriftReference, drift_of_day, report_path
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.operations.drift_check import check
from ecom_assets.settings import get_settings
from ecom_assets_tests.fact_events_factory import shop_history, write_fact_events

FEATURES = ["visits", "carts", "spend"]
DAY = dt.date(2026, 3, 1)
UPSTREAM = [
    dg.AssetSpec(key, partitions_def=daily_partitions, metadata={"partition_expr": "as_of_date"})
    for key in (["gold", "customer_daily_features"], ["ml", "batch_scores"])
]


def _customers(rng: np.random.Generator, rows: int, shift: float) -> np.ndarray:
    return rng.normal(loc=shift, size=(rows, len(FEATURES)))


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


@pytest.fixture
def champion_lake(lake):
    """A lake whose registry holds a promoted three-feature model, trained on N(0, 1) features."""
    rng = np.random.default_rng(0)
    reference = _customers(rng, 4000, 0.0)
    labels = (reference[:, 1] + rng.normal(size=len(reference)) > 0).astype(int)
    model = LogisticRegression().fit(reference, labels)
    registry = ModelRegistry(lake)
    manifest = registry.register(
        model,
        training_window=(dt.date(2026, 1, 1), dt.date(2026, 1, 31)),
        validation_window=(dt.date(2026, 2, 1), dt.date(2026, 2, 7)),
        feature_names=FEATURES,
        metrics={"roc_auc": 0.75},
        split="time",
        data_fingerprint="test",
        reference_features=pl.DataFrame(reference, schema=FEATURES),
        validation_scores=model.predict_proba(reference)[:, 1],
    )
    registry.promote(manifest.version)
    return lake


def write_day(lake, day: dt.date, shift: float) -> None:
    """Features of ``day`` (``shift`` moves every feature's mean) and the champion's batch scores of them."""
    rng = np.random.default_rng(day.toordinal())
    features = pl.DataFrame(_customers(rng, 1500, shift), schema=FEATURES).select(
        pl.format("c{}", pl.int_range(pl.len())).alias("customer_id"),
        pl.lit(day).alias("as_of_date"),
        *FEATURES,
    )
    lake.write_table("gold/customer_daily_features", features, "as_of_date", [day])
    lake.write_table("ml/batch_scores", score_features(features, require_champion(lake)), "as_of_date", [day])


def materialize_drift(lake, instance, day: dt.date, last_day: dt.date | None = None, **kwargs):
    """The drift report of ``day``, or one ranged run over ``day`` .. ``last_day``."""
    partition = (
        {"tags": partition_range_tags(day, last_day)} if last_day else {"partition_key": day.isoformat()}
    )
    return dg.materialize(
        [drift_report, *UPSTREAM],
        selection=[dg.AssetKey.from_user_string(DRIFT_REPORT)],
        resources=build_resources(lake.uri),
        instance=instance,
        **partition,
        **kwargs,
    )


def drift_metadata(result: dg.ExecuteInProcessResult) -> dict:
    event = result.asset_materializations_for_node("monitoring__drift_report")[-1]
    return {key: value.value for key, value in event.metadata.items()}


FROM_THE_START = RetrainCursor().dumps()


def evaluate(sensor: dg.SensorDefinition, instance, cursor: str | None):
    """One sensor tick as the daemon runs it: (run requests, skip reason, cursor to store)."""
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor))
    if isinstance(result, dg.SkipReason):
        return [], result.skip_message, cursor
    skip = result.skip_reason.skip_message if result.skip_reason else None
    return list(result.run_requests or []), skip, result.cursor


def test_no_drift_gives_ok_and_the_sensor_skips_with_a_reason(champion_lake, instance):
    write_day(champion_lake, DAY, shift=0.0)
    metadata = drift_metadata(materialize_drift(champion_lake, instance, DAY))

    assert metadata["status"] == "ok"
    table = champion_lake.read_table("monitoring/drift_report")
    assert sorted(table["name"]) == sorted([*FEATURES, "batch_score"])
    assert table["status"].unique().to_list() == ["ok"] and table["as_of_date"].unique().to_list() == [DAY]
    assert "| feature | carts |" in metadata["psi_table"]
    page = champion_lake.read_bytes(report_path(DAY))
    assert page.lstrip().startswith(b"<!DOCTYPE html>") and b"PSI (reference deciles)" in page
    assert metadata["report_html"].endswith(report_path(DAY))

    requests, skip, _ = evaluate(build_drift_retrain_sensor(), instance, None)
    assert requests == []
    assert f"drift {DAY}: ok" in skip and "no retraining needed" in skip


def test_drift_alerts_and_retrains_exactly_once(champion_lake, instance):
    write_day(champion_lake, DAY, shift=0.8)
    metadata = drift_metadata(materialize_drift(champion_lake, instance, DAY))
    assert metadata["status"] == "alert"
    psi = champion_lake.read_table("monitoring/drift_report")["psi"]
    assert psi.to_list() == sorted(psi.to_list(), reverse=True) and psi.min() > 0.2

    sensor = build_drift_retrain_sensor(cooldown=dt.timedelta(0))
    requests, _, cursor = evaluate(sensor, instance, None)
    assert [(r.run_key, r.partition_key) for r in requests] == [(f"drift-retrain-{DAY}", DAY.isoformat())]

    requests, skip, cursor = evaluate(sensor, instance, cursor)
    assert requests == [] and "no new monitoring/drift_report" in skip

    # The same alert again, after a restart (a new sensor reading the stored cursor): still no second run.
    materialize_drift(champion_lake, instance, DAY)
    requests, skip, _ = evaluate(build_drift_retrain_sensor(cooldown=dt.timedelta(0)), instance, cursor)
    assert requests == [] and "already triggered a retraining" in skip


def test_a_ranged_run_keeps_each_days_status(champion_lake, instance):
    next_day = DAY + dt.timedelta(days=1)
    write_day(champion_lake, DAY, shift=0.0)
    write_day(champion_lake, next_day, shift=0.8)
    metadata = drift_metadata(materialize_drift(champion_lake, instance, DAY, next_day))
    assert metadata["status_by_date"] == {DAY.isoformat(): "ok", next_day.isoformat(): "alert"}
    assert champion_lake.exists(report_path(next_day)) and not champion_lake.exists(report_path(DAY))

    requests, _, _ = evaluate(build_drift_retrain_sensor(cooldown=dt.timedelta(0)), instance, None)
    assert [request.partition_key for request in requests] == [next_day.isoformat()]


def test_cooldown_holds_back_a_second_alert(champion_lake, instance):
    next_day = DAY + dt.timedelta(days=1)
    for day in (DAY, next_day):
        write_day(champion_lake, day, shift=0.8)
    materialize_drift(champion_lake, instance, DAY)
    materialize_drift(champion_lake, instance, next_day)

    requests, _, cursor = evaluate(
        build_drift_retrain_sensor(cooldown=dt.timedelta(hours=24)), instance, FROM_THE_START
    )
    assert [request.partition_key for request in requests] == [DAY.isoformat()]
    assert '"retrained": ["2026-03-01"]' in cursor

    requests, _, _ = evaluate(build_drift_retrain_sensor(cooldown=dt.timedelta(0)), instance, FROM_THE_START)
    assert [request.partition_key for request in requests] == [DAY.isoformat(), next_day.isoformat()]


def test_a_new_sensor_judges_only_the_newest_report(champion_lake, instance):
    for day, shift in ((DAY, 0.8), (DAY + dt.timedelta(days=1), 0.0)):
        write_day(champion_lake, day, shift=shift)
        materialize_drift(champion_lake, instance, day)
    requests, skip, cursor = evaluate(build_drift_retrain_sensor(cooldown=dt.timedelta(0)), instance, None)
    assert requests == [] and f"drift {DAY + dt.timedelta(days=1)}: ok" in skip
    assert str(DAY) not in skip, "an old alert must not retrain a newly deployed sensor"
    requests, skip, _ = evaluate(build_drift_retrain_sensor(), instance, cursor)
    assert requests == [] and "no new monitoring/drift_report" in skip


def test_cooldown_reason_is_visible(champion_lake, instance):
    for day in (DAY, DAY + dt.timedelta(days=1)):
        write_day(champion_lake, day, shift=0.8)
    materialize_drift(champion_lake, instance, DAY)
    sensor = build_drift_retrain_sensor(cooldown=dt.timedelta(hours=24))
    _, _, cursor = evaluate(sensor, instance, None)
    materialize_drift(champion_lake, instance, DAY + dt.timedelta(days=1))
    requests, skip, _ = evaluate(sensor, instance, cursor)
    assert requests == [] and "cooldown until" in skip


def test_without_a_champion_the_report_is_skipped_with_the_reason(lake, instance):
    features = pl.DataFrame(
        {"customer_id": ["c1"], "as_of_date": [DAY], **{name: [1.0] for name in FEATURES}}
    )
    scores = features.select("customer_id", "as_of_date", score=pl.lit(0.5), model_version=pl.lit("v0"))
    lake.write_table("gold/customer_daily_features", features, "as_of_date", [DAY])
    lake.write_table("ml/batch_scores", scores, "as_of_date", [DAY])
    result = materialize_drift(lake, instance, DAY)
    assert result.success and result.get_asset_materialization_events() == []
    logged = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any("monitoring/drift_report: skipped, no champion model" in line for line in logged)


def test_warm_up_dates_report_insufficient_history_and_never_retrain(champion_lake, instance):
    """A lake whose first events are five days before DAY: DAY's windows are incomplete, so even a large
    shift is insufficient_history, not an alert; the sensor does not retrain on it."""
    write_day(champion_lake, DAY, shift=0.8)
    first_events = shop_history(5, 2, DAY - dt.timedelta(days=5))
    write_fact_events(champion_lake, first_events, instance)
    metadata = drift_metadata(materialize_drift(champion_lake, instance, DAY))
    assert metadata["status"] == "insufficient_history" and metadata["alerts"] == "none"
    table = champion_lake.read_table("monitoring/drift_report")
    assert table["status"].unique().to_list() == ["insufficient_history"] and table["psi"].min() > 0.2
    requests, skip, _ = evaluate(build_drift_retrain_sensor(cooldown=dt.timedelta(0)), instance, None)
    assert requests == [] and f"drift {DAY}: insufficient_history" in skip


def test_dates_before_the_champions_training_data_have_insufficient_history(champion_lake):
    write_day(champion_lake, DAY, shift=0.8)
    reference = DriftReference.of_champion(ModelRegistry(champion_lake))
    features = champion_lake.read_table("gold/customer_daily_features")
    batch = champion_lake.read_table("ml/batch_scores")
    before_training = dt.date(2025, 12, 31)  # the champion trained on 2026-01-01 .. 2026-01-31
    early = drift_of_day(
        reference,
        before_training,
        features.with_columns(as_of_date=pl.lit(before_training)),
        batch,
        history_start=dt.date(2025, 1, 1),
    )
    assert early["status"].unique().to_list() == ["insufficient_history"]
    assert reference.history_gap(DAY, history_start=DAY + dt.timedelta(days=1)) == (
        "look-back of 2026-03-01 is incomplete (complete windows from 2026-03-02 on)"
    )
    assert drift_of_day(reference, DAY, features, batch, history_start=DAY)["status"][0] == "alert"


def test_weekly_retraining_rescored_yesterday():
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 3, 9, 4, tzinfo=dt.UTC))
    request = weekly_retrain_schedule(context)
    assert request.partition_key == "2026-03-08" and request.run_key == "weekly-retrain-2026-03-08"


def test_online_scores_of_the_champion_count_as_prediction_drift(champion_lake):
    write_day(champion_lake, DAY, shift=0.0)
    reference = DriftReference.of_champion(ModelRegistry(champion_lake))
    features = champion_lake.read_table("gold/customer_daily_features")
    batch = champion_lake.read_table("ml/batch_scores")
    served = batch.select("score", "model_version").with_columns(pl.col("score") * 0.2)  # all scored low
    older = served.with_columns(model_version=pl.lit("an-earlier-model"))
    drift = drift_of_day(reference, DAY, features, batch, pl.concat([served, older]))
    online = drift.filter(pl.col("name") == "online_score").row(0, named=True)
    assert online["status"] == "alert" and online["current_rows"] == served.height

    with pytest.raises(ValueError, match="not the champion .* re-materialise ml/batch_scores for 2026-03-01"):
        drift_of_day(reference, DAY, features, batch.with_columns(model_version=pl.lit("an-earlier-model")))


def test_after_the_medallion_run_scores_drift_completed_labels_and_outcomes_follow(instance):
    run = dg.DagsterRun(
        job_name="medallion_job",
        run_id="r1",
        tags=partition_range_tags(dt.date(2026, 3, 5), dt.date(2026, 3, 8)),
    )
    context = dg.build_run_status_sensor_context(
        sensor_name="daily_ml_after_medallion_sensor",
        dagster_event=dg.DagsterEvent(event_type_value="PIPELINE_SUCCESS", job_name="medallion_job"),
        dagster_instance=instance,
        dagster_run=run,
    )
    scores_and_drift, labels, performance = daily_ml_after_medallion_sensor(context)
    assert (scores_and_drift.job_name, scores_and_drift.partition_key) == ("daily_ml_job", "2026-03-08")
    assert (labels.job_name, performance.job_name) == ("label_job", "model_performance_job")
    completed = partition_range_tags(dt.date(2026, 2, 26), dt.date(2026, 3, 1))
    assert labels.tags == completed and performance.tags == completed


def test_ci_drift_check_fails_annotated_on_alert_only(lake, capsys):
    def drift(statuses: dict[str, str]) -> pl.DataFrame:
        psi = {"ok": 0.01, "warn": 0.15, "alert": 0.4}
        rows = [
            (DAY, "feature", name, psi[status], status, 100, 50, "v1") for name, status in statuses.items()
        ]
        return pl.DataFrame(rows, schema=DRIFT_SCHEMA, orient="row")

    assert check(DAY, lake) == 2
    lake.write_table("monitoring/drift_report", drift({"visits": "ok", "carts": "warn"}), "as_of_date", [DAY])
    assert check(DAY, lake) == 0
    lake.write_table(
        "monitoring/drift_report", drift({"visits": "alert", "carts": "warn"}), "as_of_date", [DAY]
    )
    assert check(DAY, lake) == 1
    out = capsys.readouterr().out
    assert "::error title=Drift alert on visits::feature visits has PSI 0.400 on 2026-03-01" in out
    assert "::warning title=Drift warn on carts::" in out


def test_thresholds_come_from_the_environment_unless_the_run_sets_them(monkeypatch):
    monkeypatch.setenv("ECOM_PSI_ALERT", "0.3")
    get_settings.cache_clear()
    assert (DriftReportConfig().thresholds().warn, DriftReportConfig().thresholds().alert) == (0.1, 0.3)
    assert DriftReportConfig(psi_warn=0.05, psi_alert=0.5).thresholds().alert == 0.5


def test_the_retraining_the_sensor_requests_goes_through_the_promotion_gate(lake, instance):
    start, days = dt.date(2026, 9, 1), 40
    events = shop_history(300, days, start)
    write_fact_events(lake, events, instance)
    fact_events = dg.AssetSpec(
        ["gold", "fact_events"], partitions_def=daily_partitions, metadata={"partition_expr": "event_date"}
    )
    defs = dg.Definitions(
        assets=[fact_events, gold.dim_customer, *dg.load_assets_from_modules([features, ml, champion])],
        jobs=[retrain_job],
        resources=build_resources(lake.uri),
    )
    last_day, last_label = start + dt.timedelta(days=days - 1), start + dt.timedelta(days=days - 8)
    gold_tables = ("gold/dim_customer", "gold/customer_daily_activity", "gold/customer_daily_features")
    for keys, last in ((gold_tables, last_day), (("gold/label_purchase_next_7d",), last_label)):
        run = defs.resolve_implicit_global_asset_job_def().get_subset(
            asset_selection={dg.AssetKey.from_user_string(key) for key in keys}
        )
        assert run.execute_in_process(instance=instance, tags=partition_range_tags(start, last)).success

    retraining = defs.resolve_job_def(drift_retrain_sensor.job_name)
    result = retraining.execute_in_process(instance=instance, partition_key=last_day.isoformat())
    (gate,) = result.get_asset_check_evaluations()
    assert gate.check_name == "promotion_gate" and gate.passed
    champion_version = ModelRegistry(lake).champion_version()
    scores = lake.read_table("ml/batch_scores", "as_of_date", [last_day])
    assert scores.height > 0 and scores["model_version"].unique().to_list() == [champion_version]
