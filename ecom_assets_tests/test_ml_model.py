"""Training set split, metrics, training and the promotion gate, on small synthetic shop histories."""

import datetime as dt

import numpy as np
import polars as pl
import pytest

from ecom_assets.defs.ml.champion import side_by_side
from ecom_assets.keys import CUSTOMER_DAILY_FEATURES, LABEL_PURCHASE_NEXT_7D
from ecom_assets.ml.evaluation import evaluate
from ecom_assets.ml.gate import GateThresholds, decide, judge
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.ml.split import customer_split, split
from ecom_assets.ml.train import register_candidate, train
from ecom_assets.settings import get_settings
from ecom_assets.transforms.features import features_from_facts
from ecom_assets.transforms.labels import LABEL, LABEL_HORIZON_DAYS, build_label_purchase_next_7d
from ecom_assets_tests.fact_events_factory import shop_history

START = dt.date(2026, 9, 1)


def _dataset(days: int, customers: int = 300, seed: int = 0) -> pl.DataFrame:
    events = shop_history(customers, days, START, seed)
    dates = [START + dt.timedelta(days=offset) for offset in range(days - LABEL_HORIZON_DAYS)]
    features = features_from_facts(events, dates)
    return features.join(build_label_purchase_next_7d(features, events), on=["customer_id", "as_of_date"])


@pytest.fixture(scope="module")
def dataset() -> pl.DataFrame:
    return _dataset(40)


def _customer_days(frame: pl.DataFrame) -> set:
    return set(frame.select("customer_id", "as_of_date").iter_rows())


def test_time_split_leaves_a_label_horizon_between_train_and_validation(dataset):
    sides = split(dataset)
    assert sides.kind == "time"
    assert sides.train.height + sides.validation.height < dataset.height  # the gap dates are left out
    assert not _customer_days(sides.train) & _customer_days(sides.validation)
    last_train, first_validation = sides.train["as_of_date"].max(), sides.validation["as_of_date"].min()
    assert (first_validation - last_train).days >= LABEL_HORIZON_DAYS  # train labels end before validation's
    assert sides.validation["as_of_date"].max() == dataset["as_of_date"].max()


def test_few_dates_fall_back_to_a_customer_split(dataset):
    few = dataset.filter(pl.col("as_of_date") <= START + dt.timedelta(days=8))
    sides = split(few)
    assert sides.kind == "customer"
    assert sides.train.height + sides.validation.height == few.height
    assert not set(sides.train["customer_id"]) & set(sides.validation["customer_id"])
    assert customer_split(few).validation.equals(sides.validation)  # deterministic


def test_metrics_on_known_scores():
    labels = np.array([1, 0, 1, 0] + [0] * 16)
    scores = np.linspace(1, 0, 20)
    metrics = evaluate(labels, scores)
    assert metrics["base_rate"] == 0.1
    assert metrics["precision_top10"] == 0.5  # the top 2 rows hold one buyer
    assert metrics["lift_top10"] == pytest.approx(5.0)
    assert metrics["roc_auc"] == pytest.approx(1 - 1 / 36)
    with pytest.raises(ValueError, match="all 0"):
        evaluate(np.zeros(5), scores[:5])


@pytest.mark.parametrize("estimator", ["hist_gradient_boosting", "logistic_regression"])
def test_model_beats_the_recency_baseline(dataset, estimator):
    metrics = train(dataset, estimator).metrics
    assert metrics["roc_auc"] > 0.7
    assert metrics["roc_auc"] > metrics["baseline_roc_auc"]
    assert metrics["pr_auc"] > metrics["base_rate"]


GOOD = {"roc_auc": 0.80, "pr_auc": 0.40, "base_rate": 0.10}
BASELINE = {"roc_auc": 0.70, "pr_auc": 0.25, "base_rate": 0.10}
# An order-history shop: clearly better than recency, yet below the old absolute floor of 0.70.
ORDERS_ONLY = {"roc_auc": 0.66, "pr_auc": 0.30, "base_rate": 0.10}
ORDERS_BASELINE = {"roc_auc": 0.57, "pr_auc": 0.18, "base_rate": 0.10}


@pytest.mark.parametrize(
    ("candidate", "baseline", "champion", "promote", "reason"),
    [
        (GOOD, BASELINE, None, True, "beats the recency baseline; no champion yet"),
        (ORDERS_ONLY, ORDERS_BASELINE, None, True, "no champion yet"),
        (
            {**GOOD, "roc_auc": 0.71},
            BASELINE,
            None,
            False,
            "roc_auc 0.710 does not beat the recency baseline's 0.700 by the margin 0.020",
        ),
        (
            {**GOOD, "pr_auc": 0.255},
            BASELINE,
            None,
            False,
            "pr_auc 0.255 does not beat the recency baseline's 0.250 by the margin 0.010",
        ),
        ({**GOOD, "roc_auc": 0.52}, {**BASELINE, "roc_auc": 0.45}, None, False, "below the floor 0.550"),
        ({**GOOD, "pr_auc": 0.09}, {**BASELINE, "pr_auc": 0.05}, None, False, "below base rate 0.100"),
        (
            GOOD,
            BASELINE,
            {**GOOD, "roc_auc": 0.82},
            False,
            "roc_auc 0.800 is worse than the champion's 0.820",
        ),
        (GOOD, BASELINE, {**GOOD, "roc_auc": 0.78}, True, "not worse than the champion"),
    ],
    ids=[
        "first-model",
        "orders-only-shop",
        "roc-not-above-baseline",
        "pr-not-above-baseline",
        "below-floor",
        "pr-below-base-rate",
        "worse-than-champion",
        "beats-champion",
    ],
)
def test_gate_decision(candidate, baseline, champion, promote, reason):
    decision = decide(candidate, champion, GateThresholds(), baseline)
    assert decision.promote is promote
    assert any(reason in text for text in decision.reasons), decision.reasons


def test_gate_rules_come_from_the_environment_unless_the_run_sets_them(monkeypatch):
    monkeypatch.setenv("ECOM_GATE_BASELINE_ROC_AUC_MARGIN", "0.15")
    monkeypatch.setenv("ECOM_GATE_CHAMPION_TOLERANCE", "0.05")
    get_settings.cache_clear()
    try:
        strict = decide(GOOD, {**GOOD, "roc_auc": 0.84}, GateThresholds(), BASELINE)
        relaxed = decide(
            GOOD, {**GOOD, "roc_auc": 0.84}, GateThresholds(baseline_roc_auc_margin=0.05), BASELINE
        )
    finally:
        get_settings.cache_clear()
    assert strict.reasons == [
        "roc_auc 0.800 does not beat the recency baseline's 0.700 by the margin 0.150 on "
        "the same validation rows"
    ]
    assert relaxed.promote, relaxed.reasons


def test_champion_metadata_shows_candidate_champion_and_baseline_side_by_side():
    decision = decide(GOOD, {**GOOD, "roc_auc": 0.78}, GateThresholds(), BASELINE)
    table = side_by_side(decision)
    assert table.columns == ["metric", "candidate", "champion", "baseline"]
    assert table.row(0) == ("roc_auc", 0.80, 0.78, 0.70)
    assert side_by_side(decide(GOOD, None, GateThresholds())).row(1) == ("pr_auc", 0.40, None, None)


def _register(lake, dataset: pl.DataFrame, labels: np.ndarray | None = None) -> str:
    """Train on ``dataset`` (optionally with replaced labels) and register it like the asset does."""
    trained = train(dataset if labels is None else dataset.with_columns(pl.Series(LABEL, labels)))
    return register_candidate(ModelRegistry(lake), trained, data_fingerprint="test").version


def test_gate_judges_a_good_model_fit_and_a_worse_one_not_without_writing_anything(lake, dataset):
    dates = sorted(set(dataset["as_of_date"]))
    lake.write_table(CUSTOMER_DAILY_FEATURES, dataset.drop(LABEL), "as_of_date", dates)
    lake.write_table(
        LABEL_PURCHASE_NEXT_7D, dataset.select("customer_id", "as_of_date", LABEL), "as_of_date", dates
    )
    registry = ModelRegistry(lake)

    good = _register(lake, dataset)
    first = judge(lake, good, GateThresholds())
    assert first.promote and registry.champion_version() is None, "judging must not promote"
    registry.promote(good)

    shuffled = np.random.default_rng(1).permutation(dataset[LABEL].to_numpy())
    worse = _register(lake, dataset, labels=shuffled)
    second = judge(lake, worse, GateThresholds(roc_auc_floor=0.0, pr_auc_margin=-1.0))
    assert not second.promote
    assert second.champion_version == good
    assert any("worse than the champion" in reason for reason in second.reasons)
    assert registry.champion_version() == good
