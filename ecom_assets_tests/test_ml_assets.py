"""The ML assets on a small lake: features and labels by date, model and gate, batch scores, CLI export."""

import datetime as dt

import dagster as dg
import polars as pl
import pytest

from ecom_assets.cli import main
from ecom_assets.defs.features import assets as features
from ecom_assets.defs.medallion import gold
from ecom_assets.defs.ml import assets as ml
from ecom_assets.defs.ml import champion
from ecom_assets.defs.partitions import daily_partitions, partition_range_tags
from ecom_assets.defs.resources import build_resources
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.features import features_from_facts
from ecom_assets_tests.fact_events_factory import shop_history, write_fact_events

START, DAYS = dt.date(2026, 9, 1), 40
LAST_EVENT_DATE = START + dt.timedelta(days=DAYS - 1)
LAST_LABEL_DATE = LAST_EVENT_DATE - dt.timedelta(days=7)
SCORED = (LAST_EVENT_DATE - dt.timedelta(days=2), LAST_EVENT_DATE)
# gold/fact_events is written by hand below, so here it stands as an external asset of the same shape
FACT_EVENTS = dg.AssetSpec(
    ["gold", "fact_events"], partitions_def=daily_partitions, metadata={"partition_expr": "event_date"}
)
MODEL_AND_CHAMPION = 'key:"ml/propensity_model" or key:"ml/champion"'
# 40 days of history: a week of warm-up leaves enough dates for a time split
SHORT_WARM_UP = {"ml__propensity_model": {"config": {"min_history_days": 7}}}
ASSETS = [FACT_EVENTS, gold.dim_customer, *dg.load_assets_from_modules([features, ml, champion])]
FEATURE_RUN = (
    'key:"gold/dim_customer" or key:"gold/customer_daily_activity" or key:"gold/customer_daily_features"'
)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """fact_events written by hand, then the ML part of the graph as ``ecom materialize`` runs it."""
    uri = str(tmp_path_factory.mktemp("ml_lake"))
    lake = Lake(uri)
    events = shop_history(300, DAYS, START)
    instance = dg.DagsterInstance.ephemeral()
    write_fact_events(lake, events, instance)

    def run(
        selection: str, dates: tuple[dt.date, dt.date] | None = None, config=None
    ) -> dg.ExecuteInProcessResult:
        tags = partition_range_tags(*dates) if dates else None
        return dg.materialize(
            ASSETS,
            selection=selection,
            instance=instance,
            resources=build_resources(uri),
            tags=tags,
            run_config={"ops": config} if config else None,
        )

    results = {
        "features": run(FEATURE_RUN, (START, LAST_EVENT_DATE)),
        "labels": run('key:"gold/label_purchase_next_7d"', (START, LAST_LABEL_DATE)),
        "model": run(MODEL_AND_CHAMPION, config=SHORT_WARM_UP),
        "scores": run('key:"ml/batch_scores"', SCORED),
    }
    return lake, events, results, run


def _metadata(result: dg.ExecuteInProcessResult, key: str = "ml/propensity_model") -> dict:
    (event,) = [
        event
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey.from_user_string(key)
    ]
    return {name: value.value for name, value in event.materialization.metadata.items()}


def test_ranged_feature_run_matches_the_transform_per_date(pipeline):
    lake, events, results, _ = pipeline
    table = lake.read_table("gold/customer_daily_features").sort("as_of_date", "customer_id")
    expected = features_from_facts(events, sorted(set(events["event_date"])))
    assert table.equals(expected.select(table.columns))
    definition_metadata = features.customer_daily_features.specs_by_key[
        dg.AssetKey(["gold", "customer_daily_features"])
    ].metadata
    assert "days_since_last_purchase" in definition_metadata["features"].value


def test_labels_exist_only_for_complete_horizons(pipeline):
    lake, _, _, _ = pipeline
    labels = lake.read_table("gold/label_purchase_next_7d")
    assert labels["as_of_date"].max() == LAST_LABEL_DATE
    feature_rows = lake.read_table("gold/customer_daily_features", "as_of_date", [LAST_LABEL_DATE])
    assert labels.filter(pl.col("as_of_date") == LAST_LABEL_DATE).height == feature_rows.height


def test_labels_refuse_a_horizon_with_an_unmaterialised_day(tmp_path):
    """Within the partitions, a look-ahead day that was never materialised must not read as 'no purchase'."""
    uri = str(tmp_path / "lake")
    instance = dg.DagsterInstance.ephemeral()
    dates = write_fact_events(Lake(uri), shop_history(20, 10, START), instance, unmaterialised=1)
    selection = f'{FEATURE_RUN} or key:"gold/label_purchase_next_7d"'
    result = dg.materialize(
        ASSETS,
        selection=selection,
        instance=instance,
        resources=build_resources(uri),
        partition_key=(dates[-1] - dt.timedelta(days=7)).isoformat(),
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert f"not materialised for {dates[-1]}" in failure.step_failure_data.error.cause.message


def test_model_is_registered_gated_and_promoted(pipeline):
    lake, _, results, _ = pipeline
    metadata = _metadata(results["model"])
    assert metadata["split"] == "time"
    first_trained = dt.date.fromisoformat(metadata["training_window"].split(" .. ")[0])
    assert first_trained >= START + dt.timedelta(days=7), "warm-up dates must not be trained on"
    assert metadata["roc_auc"] > metadata["baseline_roc_auc"]
    assert "| decile |" in metadata["calibration_and_lift"]
    (check,) = results["model"].get_asset_check_evaluations()
    assert check.passed, check.description
    decision = _metadata(results["model"], "ml/champion")
    assert decision["decision"] == f"promoted {metadata['model_version']}"
    assert decision["champion_before"] == "none"
    assert "| roc_auc |" in decision["metrics_on_candidate_validation_rows"]
    assert ModelRegistry(lake).champion_version() == metadata["model_version"]


def test_a_candidate_that_is_not_better_is_a_successful_run_that_keeps_the_champion(pipeline):
    lake, _, _, run = pipeline
    champion_before = ModelRegistry(lake).champion_version()
    must_beat_by_a_mile = {"ml__champion": {"config": {"champion_tolerance": -0.5}}}
    result = run(
        MODEL_AND_CHAMPION,
        config={**SHORT_WARM_UP, **must_beat_by_a_mile},
    )
    assert result.success
    decision = _metadata(result, "ml/champion")
    candidate = decision["candidate_version"]
    # Retrained on the same days, the candidate equals the champion: close enough to serve beside it.
    assert decision["decision"] == f"kept {champion_before}, {candidate} serves as challenger"
    assert candidate != champion_before and not decision["promoted"]
    assert "worse than the champion" in decision["reasons"] and "serves as challenger" in decision["reasons"]
    registry = ModelRegistry(lake)
    assert registry.champion_version() == champion_before and registry.version_in("challenger") == candidate
    registry.clear("challenger")  # the module's pipeline is shared: leave it with the champion alone


def test_batch_scores_cover_every_featured_customer(pipeline):
    lake, _, _, _ = pipeline
    scores = lake.read_table("ml/batch_scores")
    dates = [SCORED[0] + dt.timedelta(days=offset) for offset in range(3)]
    features_rows = lake.read_table("gold/customer_daily_features", "as_of_date", dates)
    assert scores.height == features_rows.height
    deciles_per_date = scores.group_by("as_of_date").agg(pl.col("decile").unique().sort())["decile"]
    assert deciles_per_date.to_list() == [list(range(1, 11))] * 3
    assert scores["model_version"].unique().to_list() == [ModelRegistry(lake).champion_version()]


def test_score_batch_cli_exports_csv_and_parquet(pipeline, tmp_path, monkeypatch, capsys):
    lake, _, _, _ = pipeline
    monkeypatch.setenv("ECOM_LAKE_URI", lake.uri)
    from ecom_assets.settings import get_settings

    get_settings.cache_clear()
    expected = lake.read_table("ml/batch_scores", "as_of_date", [LAST_EVENT_DATE]).sort("customer_id")
    for name in ("scores.csv", "scores.parquet"):
        main(["score-batch", "--date", LAST_EVENT_DATE.isoformat(), "--out", str(tmp_path / name)])
        read = pl.read_csv if name.endswith(".csv") else pl.read_parquet
        exported = read(tmp_path / name)
        assert exported.height == expected.height
        assert exported.sort("customer_id")["score"].to_list() == pytest.approx(expected["score"].to_list())
    with pytest.raises(SystemExit) as exit_info:
        main(["score-batch", "--date", LAST_EVENT_DATE.isoformat(), "--out", str(tmp_path / "scores.xlsx")])
    assert exit_info.value.code == 2
    assert ".csv or .parquet" in capsys.readouterr().err


def _materialised(result: dg.ExecuteInProcessResult) -> set[str]:
    return {event.asset_key.to_user_string() for event in result.get_asset_materialization_events()}


def test_a_young_lake_skips_labels_model_and_scores_without_failing(tmp_path):
    """Ten days of history: nothing to label before the first day, too few labelled dates to train, no
    champion to score with; every run succeeds and logs why it skipped."""
    uri = str(tmp_path / "lake")
    instance = dg.DagsterInstance.ephemeral()
    dates = write_fact_events(Lake(uri), shop_history(30, 10, START), instance)

    def run(selection: str, first: dt.date, last: dt.date) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            ASSETS,
            selection=selection,
            instance=instance,
            resources=build_resources(uri),
            tags=partition_range_tags(first, last),
        )

    assert "gold/customer_daily_features" in _materialised(run(FEATURE_RUN, dates[0], dates[-1]))
    before_the_lake = dates[0] - dt.timedelta(days=3)
    labels = run('key:"gold/label_purchase_next_7d"', before_the_lake, before_the_lake)
    labelled = run('key:"gold/label_purchase_next_7d"', dates[0], dates[2])
    model = dg.materialize(
        ASSETS, selection=MODEL_AND_CHAMPION, instance=instance, resources=build_resources(uri)
    )
    scores = run('key:"ml/batch_scores"', dates[-1], dates[-1])
    assert all(result.success for result in (labels, labelled, model, scores))
    assert (_materialised(labels), _materialised(labelled)) == (set(), {"gold/label_purchase_next_7d"})
    assert _materialised(model) == _materialised(scores) == set()
    logged = [entry.user_message for result in (model, scores) for entry in instance.all_logs(result.run_id)]
    assert any("ml/propensity_model: skipped, 0 of the 3 labelled as-of dates" in line for line in logged)
    assert any("ml/batch_scores: skipped, no champion yet" in line for line in logged)
    assert ModelRegistry(Lake(uri)).versions() == []
