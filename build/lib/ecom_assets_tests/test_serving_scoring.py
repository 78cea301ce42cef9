"""The pieces behind /score without a server: the flat-forest scorer, the online feature index, the log."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from ecom_assets.keys import PREDICTION_LOG
from ecom_assets.ml.scorer import Scorer
from ecom_assets.transforms.features import FEATURE_NAMES, no_activity_features
from ecom_assets_tests.serving_support import write_features
from serving.online_features import FeaturesUnavailableError, load_feature_index
from serving.prediction_log import PredictionLog


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    rows = rng.normal(size=(3000, 8))
    labels = (rows[:, 0] + rows[:, 1] * rows[:, 2] + rng.normal(size=3000) > 0).astype(int)
    rows[rng.random(rows.shape) < 0.1] = np.nan  # missing values take each split's learned side
    return rows, labels


def test_flat_forest_scores_are_bit_identical_to_predict_proba(data):
    rows, labels = data
    with threadpool_limits(1):
        model = Pipeline([("model", HistGradientBoostingClassifier(max_iter=80, random_state=0))]).fit(
            rows, labels
        )
        scorer = Scorer(model, rows[:100])
        expected = model.predict_proba(rows)[:, 1]
    assert scorer.forest is not None
    assert [scorer.score_one(row) for row in rows] == expected.tolist()


def test_other_models_are_scored_through_predict_proba(data):
    rows, labels = data
    model = Pipeline([("model", LogisticRegression())]).fit(np.nan_to_num(rows), labels)
    scorer = Scorer(model, np.nan_to_num(rows[:10]))
    assert scorer.forest is None
    assert scorer.score_one(np.nan_to_num(rows[5])) == model.predict_proba(np.nan_to_num(rows[5:6]))[0, 1]


def test_feature_index_serves_the_newest_partition_in_the_model_order(lake):
    write_features(lake, as_of=dt.date(2026, 10, 31), customers=5, seed=1)
    newest = write_features(lake, as_of=dt.date(2026, 11, 1), customers=7, seed=2)
    order = list(reversed(FEATURE_NAMES))

    index = load_feature_index(lake, order)

    assert index.as_of == dt.date(2026, 11, 1)
    assert len(index) == 7
    expected = newest.filter(customer_id="c02-00003").select(order).fill_null(np.nan).to_numpy()[0]
    np.testing.assert_array_equal(index.row("c02-00003"), expected)  # nulls are served as NaN, as in training
    assert index.row("c01-00000") is None  # only in the older partition
    assert index.no_activity.tolist() == [no_activity_features()[name] for name in order]


def test_feature_index_names_what_is_missing(lake):
    with pytest.raises(FeaturesUnavailableError, match="does not exist yet"):
        load_feature_index(lake, FEATURE_NAMES)
    with pytest.raises(FeaturesUnavailableError, match="not_a_feature"):
        load_feature_index(lake, [*FEATURE_NAMES, "not_a_feature"])


def test_prediction_log_appends_what_was_queued(lake):
    log = PredictionLog(lake, flush_seconds=60, max_pending=3)
    for number in range(4):
        log.record(f"c{number}", 0.5, "v1", cold_start=number == 0, as_of=dt.date(2026, 11, 1))
    log.flush()
    log.record(None, 0.25, "v1", cold_start=False, as_of=None)
    log.flush()

    table = lake.read_table(PREDICTION_LOG).sort("logged_at")
    assert table["customer_id"].to_list() == ["c0", "c1", "c2", None]
    assert table["cold_start"].to_list() == [True, False, False, False]
    assert table["log_date"].to_list() == [day.date() for day in table["logged_at"]]
    assert (log.written, log.lost) == (4, 1)  # the fourth queued row found the queue full
    assert table.filter(pl.col("customer_id").is_null())["features_as_of"].to_list() == [None]
