"""Realised performance: metrics with a known answer, the scored rows of batch and online scores, and the
``monitoring/model_performance`` asset on a temporary lake."""

import datetime as dt

import dagster as dg
import numpy as np
import polars as pl
import pytest
from sklearn.metrics import roc_auc_score

from ecom_assets.defs.monitoring.performance import model_performance
from ecom_assets.defs.partitions import daily_partitions
from ecom_assets.defs.resources import build_resources
from ecom_assets.ml.bootstrap import bootstrap_interval, paired_difference_interval, roc_auc_of
from ecom_assets.ml.performance_chart import roc_auc_chart
from ecom_assets.ml.realised import batch_scored, online_scored, predicted_interval, realised_performance
from ecom_assets.transforms.labels import LABEL, build_label_purchase_next_7d
from ecom_assets_tests.fact_events_factory import shop_history, write_fact_events

DAY = dt.date(2026, 9, 10)


def scored_with_outcomes(scores: np.ndarray, labels: np.ndarray, **columns) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(scores))],
            "as_of_date": DAY,
            "score": scores.astype(np.float64),
            "model_version": columns.get("model_version", "v1"),
            "arm": columns.get("arm", "champion"),
            "source": "batch",
            LABEL: labels.astype(np.int8),
        }
    )


def test_perfect_scores_have_roc_auc_one_and_a_degenerate_interval():
    labels = np.array([0] * 80 + [1] * 20)
    table = realised_performance(scored_with_outcomes(labels * 0.9 + 0.05, labels), resamples=200)
    row = table.row(0, named=True)
    assert (row["rows"], row["positives"], row["base_rate"]) == (100, 20, 0.2)
    assert row["roc_auc"] == 1.0 and (row["roc_auc_low"], row["roc_auc_high"]) == (1.0, 1.0)
    assert row["pr_auc"] == 1.0 and row["precision_top10"] == 1.0 and row["lift_top10"] == 5.0
    assert row["brier"] == pytest.approx(0.0025)
    assert row["decile_observed_rate"][:2] == [1.0, 1.0] and row["decile_observed_rate"][-1] == 0.0


def test_random_scores_have_roc_auc_near_half_inside_their_interval():
    rng = np.random.default_rng(1)
    labels = (rng.random(4000) < 0.3).astype(int)
    row = realised_performance(scored_with_outcomes(rng.random(4000), labels), resamples=300).row(
        0, named=True
    )
    assert row["roc_auc_low"] < 0.5 < row["roc_auc_high"]
    assert row["roc_auc_low"] < row["roc_auc"] < row["roc_auc_high"] and abs(row["roc_auc"] - 0.5) < 0.03
    # A constant score of the base rate has Brier p(1-p).
    constant = realised_performance(scored_with_outcomes(np.full(4000, labels.mean()), labels), resamples=100)
    assert constant["brier"][0] == pytest.approx(labels.mean() * (1 - labels.mean()))


def test_the_vectorised_roc_auc_equals_sklearn_with_ties():
    rng = np.random.default_rng(2)
    labels = (rng.random(500) < 0.4).astype(float)
    scores = np.round(rng.random(500) + labels * 0.3, 1)  # rounded: many ties
    assert roc_auc_of(labels, scores) == pytest.approx(roc_auc_score(labels, scores))


def test_a_one_class_group_has_no_ranking_metrics_rather_than_a_wrong_one():
    labels = np.zeros(50)
    row = realised_performance(scored_with_outcomes(np.linspace(0, 1, 50), labels), resamples=100).row(
        0, named=True
    )
    assert row["roc_auc"] is None and row["roc_auc_low"] is None and row["pr_auc"] is None
    assert row["brier"] == pytest.approx(np.mean(np.linspace(0, 1, 50) ** 2))


def test_groups_are_per_version_and_arm():
    labels = np.array([0, 1] * 50)
    champion = scored_with_outcomes(labels * 0.5 + 0.2, labels)
    challenger = scored_with_outcomes(1 - labels * 0.5, labels, model_version="v2", arm="challenger")
    table = realised_performance(pl.concat([champion, challenger]), resamples=100)
    assert table.select("model_version", "arm", "roc_auc").rows() == [
        ("v1", "champion", 1.0),
        ("v2", "challenger", 0.0),
    ]


def test_paired_interval_separates_a_clear_winner_and_straddles_zero_on_a_tie():
    rng = np.random.default_rng(3)
    labels = (rng.random(3000) < 0.3).astype(float)
    weak = rng.random(3000) + labels * 0.2
    strong = rng.random(3000) + labels * 0.5
    low, high = paired_difference_interval(labels, weak, strong, 300, np.random.default_rng(0))
    assert 0 < low < high
    low, high = paired_difference_interval(labels, weak, weak, 300, np.random.default_rng(0))
    assert low == high == 0.0
    low, high = bootstrap_interval(roc_auc_of, labels, strong, 300, np.random.default_rng(0))
    assert low < roc_auc_score(labels, strong) < high


def test_validation_predicts_a_wider_range_for_a_smaller_day():
    rng = np.random.default_rng(4)
    labels = (rng.random(5000) < 0.2).astype(int)
    validation = pl.DataFrame({"score": rng.random(5000) + labels * 0.4, LABEL: labels})
    auc = roc_auc_score(labels, validation["score"])
    small, large = (predicted_interval(validation, customers, 300) for customers in (300, 5000))
    assert small[0] < large[0] < auc < large[1] < small[1]
    assert predicted_interval(None, 300, 300) == (None, None)


def test_online_scores_tolerate_logs_written_before_arms_existed():
    stamp = dt.datetime(2026, 9, 10, 12, tzinfo=dt.UTC)
    old_log = pl.DataFrame(
        {
            "logged_at": [stamp, stamp + dt.timedelta(hours=1), stamp],
            "log_date": [DAY] * 3,
            "customer_id": ["c1", "c1", None],
            "score": [0.2, 0.4, 0.9],
            "model_version": ["v1"] * 3,
        }
    )
    scored = online_scored(old_log)
    assert scored.rows() == [("c1", DAY, 0.4, "v1", "champion", "online")]  # the last score of the day
    shadow = old_log.with_columns(arm=pl.lit("challenger"), served=pl.lit(False))
    assert online_scored(shadow)["arm"].to_list() == ["challenger"], "shadow scores are measured too"
    batch = pl.DataFrame(
        {"customer_id": ["c1"], "as_of_date": [DAY], "score": [0.5], "model_version": ["v1"]}
    )
    assert batch_scored(batch)["arm"].to_list() == ["champion"]


def test_the_chart_draws_one_line_per_version_and_its_validation_level():
    table = pl.DataFrame(
        {
            "as_of_date": [DAY, DAY + dt.timedelta(days=1)] * 2,
            "source": "batch",
            "model_version": ["v1", "v1", "v2", "v2"],
            "roc_auc": [0.8, 0.78, 0.82, 0.83],
            "validation_roc_auc": [0.81, 0.81, 0.84, 0.84],
            "validation_roc_auc_low": None,
            "validation_roc_auc_high": None,
            "out_of_time": True,
        }
    )
    svg = roc_auc_chart(table)
    assert svg.startswith("<svg") and svg.count("<polyline") == 2 and svg.count('stroke-dasharray="5,4"') == 2
    assert ">v1<" in svg and ">v2<" in svg


# -- the asset ------------------------------------------------------------------------------------

UPSTREAM = [
    dg.AssetSpec(
        ["gold", "fact_events"], partitions_def=daily_partitions, metadata={"partition_expr": "event_date"}
    ),
    dg.AssetSpec(
        ["ml", "batch_scores"], partitions_def=daily_partitions, metadata={"partition_expr": "as_of_date"}
    ),
    dg.AssetSpec(["monitoring", "prediction_log"], partitions_def=daily_partitions),
]


@pytest.fixture
def instance():
    with dg.instance_for_test() as test_instance:
        yield test_instance


def _scored_lake(lake, instance, unmaterialised: int = 0) -> pl.DataFrame:
    """Ten days of shop history, batch scores of DAY by two arms (the challenger knows the outcome, the
    champion guesses), and an old-format online log; returns the true labels of DAY."""
    start = DAY - dt.timedelta(days=2)
    events = shop_history(400, 10, start)
    write_fact_events(lake, events, instance, unmaterialised=unmaterialised)
    customers = events.filter(pl.col("event_date") <= DAY).select("customer_id").unique().sort("customer_id")
    labels = build_label_purchase_next_7d(customers.with_columns(as_of_date=pl.lit(DAY)), events)
    rng = np.random.default_rng(1)
    truth = labels[LABEL].to_numpy()
    batch = pl.concat(
        labels.select("customer_id", "as_of_date").with_columns(
            score=pl.Series(values), decile=pl.lit(1, pl.Int8), model_version=pl.lit(version), arm=pl.lit(arm)
        )
        for values, version, arm in (
            (rng.random(len(truth)), "v1", "champion"),
            (truth * 0.3 + rng.random(len(truth)) * 0.7, "v2", "challenger"),
        )
    )
    lake.write_table("ml/batch_scores", batch, "as_of_date", [DAY])
    log = labels.head(50).select(
        logged_at=pl.lit(dt.datetime(2026, 9, 10, 9, tzinfo=dt.UTC)),
        log_date=pl.col("as_of_date"),
        customer_id="customer_id",
        score=pl.col(LABEL).cast(pl.Float64) * 0.5 + 0.25,
        model_version=pl.lit("v1"),
        cold_start=pl.lit(False),
        features_as_of=pl.col("as_of_date"),
    )
    lake.append_table("monitoring/prediction_log", log, partition_column="log_date")
    return labels


def _materialize(lake, instance, **kwargs):
    return dg.materialize(
        [model_performance, *UPSTREAM],
        selection=[dg.AssetKey(["monitoring", "model_performance"])],
        resources=build_resources(lake.uri),
        instance=instance,
        partition_key=DAY.isoformat(),
        run_config={"ops": {"monitoring__model_performance": {"config": {"resamples": 200}}}},
        **kwargs,
    )


def test_model_performance_joins_scores_of_d_with_purchases_of_the_next_seven_days(lake, instance):
    labels = _scored_lake(lake, instance)
    result = _materialize(lake, instance)
    assert result.success
    table = lake.read_table("monitoring/model_performance").sort("source", "model_version")
    groups = table.select("source", "model_version", "arm", "rows").rows()
    assert groups == [
        ("batch", "v1", "champion", labels.height),
        ("batch", "v2", "challenger", labels.height),
        ("online", "v1", "champion", 50),
    ]
    assert table["positives"][0] == labels[LABEL].sum() and table["as_of_date"].unique().to_list() == [DAY]
    champion, challenger, online = table.iter_rows(named=True)
    assert challenger["roc_auc_low"] > champion["roc_auc_high"], "the informed arm is clearly better"
    assert champion["roc_auc_low"] < 0.5 < champion["roc_auc_high"] and online["roc_auc"] == 1.0
    assert table["validation_roc_auc"].is_null().all(), "versions unknown to the registry have no promise"
    metadata = result.asset_materializations_for_node("monitoring__model_performance")[-1].metadata
    assert "| batch | v2 | challenger |" in metadata["performance_table"].value
    assert "data:image/svg+xml;base64," in metadata["roc_auc_by_day"].value
    assert "| decile |" in metadata["calibration_by_decile"].value


def test_model_performance_waits_for_every_day_of_the_look_ahead(lake, instance):
    _scored_lake(lake, instance, unmaterialised=1)
    result = _materialize(lake, instance, raise_on_error=False)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert "gold/fact_events is not materialised for 2026-09-17" in str(failure.step_failure_data.error)
