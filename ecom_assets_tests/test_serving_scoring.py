"""The pieces behind /score without a server: scorers, the feature index, lookup scores, the log."""

from __future__ import annotations

import datetime as dt
import gc
import os
import sys
import threading

import numpy as np
import polars as pl
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from ecom_assets.keys import PREDICTION_LOG
from ecom_assets.ml.dataset import feature_matrix
from ecom_assets.ml.registry import CHALLENGER_ROLE, ModelRegistry
from ecom_assets.ml.scorer import Scorer
from ecom_assets.transforms.features import FEATURE_NAMES, no_activity_features
from ecom_assets_tests.serving_support import register_model, wait_until, write_features
from serving.background import BACKGROUND_NICENESS
from serving.model_store import COLD, ModelStore
from serving.online_features import FeaturesUnavailableError, load_feature_index, no_activity_vector
from serving.prediction_log import PREDICTION_LOG_SCHEMA, PredictionLog, epoch_days


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
    for matrix in (rows, np.asfortranarray(rows)):  # a reload scores the customers column by column
        assert scorer.score_many(matrix).tolist() == expected.tolist()


def test_flat_forest_sends_missing_values_the_way_each_split_learned(data):
    rows, labels = data
    with threadpool_limits(1):
        model = HistGradientBoostingClassifier(max_iter=80, random_state=0).fit(rows, labels)
        scorer = Scorer(model, rows[:100])
        # every feature missing alone, then all of them: each split's learned side, whichever it is
        missing = np.repeat(rows[:50], rows.shape[1] + 1, axis=0)
        for feature in range(rows.shape[1]):
            missing[feature :: rows.shape[1] + 1, feature] = np.nan
        missing[rows.shape[1] :: rows.shape[1] + 1] = np.nan
        expected = model.predict_proba(missing)[:, 1]
    assert scorer.forest is not None
    splits = scorer.forest.nodes[~scorer.forest.nodes["is_leaf"]]
    assert set(splits["missing_go_left"].tolist()) == {False, True}
    assert [scorer.score_one(row) for row in missing] == expected.tolist()
    assert scorer.score_many(missing).tolist() == expected.tolist()


def test_flat_forest_scores_trees_that_are_a_single_leaf(data):
    rows, labels = data
    with threadpool_limits(1):
        # no split can keep this many rows on both sides: every tree is its root, a leaf, and the score is
        # the baseline's
        model = HistGradientBoostingClassifier(max_iter=5, min_samples_leaf=len(rows)).fit(rows, labels)
        scorer = Scorer(model, rows[:10])
        expected = model.predict_proba(rows[:100])[:, 1]
    assert scorer.forest is not None
    assert len(scorer.forest.nodes) == 5 and scorer.forest.nodes["is_leaf"].all()
    assert [scorer.score_one(row) for row in rows[:100]] == expected.tolist()
    assert scorer.score_many(rows[:100]).tolist() == expected.tolist()


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

    index = load_feature_index(lake)

    assert index.as_of == dt.date(2026, 11, 1)
    assert len(index) == 7
    expected = newest.filter(customer_id="c02-00003").select(order).fill_null(np.nan).to_numpy()[0]
    # nulls are served as NaN, as in training
    np.testing.assert_array_equal(index.matrix(order)[index.rows["c02-00003"]], expected)
    assert "c01-00000" not in index.rows  # only in the older partition
    assert no_activity_vector(order).tolist() == [no_activity_features()[name] for name in order]


def test_feature_index_names_what_is_missing(lake):
    with pytest.raises(FeaturesUnavailableError, match="does not exist yet"):
        load_feature_index(lake)
    write_features(lake)
    with pytest.raises(FeaturesUnavailableError, match="not_a_feature"):
        load_feature_index(lake).matrix([*FEATURE_NAMES, "not_a_feature"])
    with pytest.raises(FeaturesUnavailableError, match="not_a_feature"):
        no_activity_vector([*FEATURE_NAMES, "not_a_feature"])


def test_lookup_scores_are_predict_proba_of_every_indexed_customer(lake):
    features = write_features(lake, customers=400)
    champion = register_model(lake, seed=1)
    challenger = register_model(lake, seed=2, role=CHALLENGER_ROLE)
    store = ModelStore(lake)
    store.refresh()

    snapshot = store.snapshot
    registry = ModelRegistry(lake)
    for arm, manifest in [(snapshot.champion, champion), (snapshot.challenger, challenger)]:
        model = registry.load(manifest.version).model
        expected = model.predict_proba(feature_matrix(features, manifest.feature_names))[:, 1]
        assert arm.version == manifest.version
        assert arm.scores[:-1] == expected.tolist()
        cold = model.predict_proba(no_activity_vector(manifest.feature_names).reshape(1, -1))[0, 1]
        assert arm.scores[COLD] == cold  # customers the features do not know
        assert arm.scores[snapshot.features.rows["c00-00123"]] == expected[123]


def test_a_loaded_snapshot_is_left_out_of_garbage_collections(lake):
    write_features(lake)
    register_model(lake, seed=1)
    store = ModelStore(lake)
    store.refresh()

    snapshot = store.snapshot
    assert gc.is_tracked(snapshot)
    # Frozen: no generation the collector scans holds it (a full scan of the loaded objects is a stall).
    assert not any(tracked is snapshot for tracked in gc.get_objects())


def test_a_promoted_challenger_is_served_as_champion_without_loading_or_scoring_again(lake):
    write_features(lake)
    register_model(lake, seed=1)
    challenger = register_model(lake, seed=2, role=CHALLENGER_ROLE)
    store = ModelStore(lake)
    store.refresh()
    before = store.snapshot

    registry = ModelRegistry(lake)
    registry.promote(challenger.version)
    registry.clear(CHALLENGER_ROLE)
    store.refresh()

    after = store.snapshot
    assert after is not before and after.challenger is None
    assert (after.champion.role, after.champion.version) == ("champion", challenger.version)
    assert after.champion.model is before.challenger.model
    assert after.champion.scores is before.challenger.scores


def test_prediction_log_appends_what_was_queued(lake):
    log = PredictionLog(lake, flush_seconds=60, max_pending=3)
    as_of = epoch_days(dt.date(2026, 11, 1))
    for number in range(4):
        log.record(f"c{number}", 0.5, "v1", number == 0, as_of, "champion", served=True)
    log.flush()
    log.record(None, 0.25, "v2", False, None, "challenger", served=False)
    batch = ["c7", "c8", "c9"]
    log.record_many(batch, [0.1, 0.2, 0.3], "v1", [False, True, False], as_of, "champion", served=True)
    log.flush()

    table = lake.read_table(PREDICTION_LOG).sort("logged_at", "customer_id", nulls_last=False)
    assert table.schema == pl.Schema(PREDICTION_LOG_SCHEMA)
    assert table["customer_id"].to_list() == ["c0", "c1", "c2", None, "c7", "c8"]
    assert table["cold_start"].to_list() == [True, False, False, False, False, True]
    assert table["arm"].to_list() == ["champion"] * 3 + ["challenger"] + ["champion"] * 2
    assert table["served"].to_list() == [True, True, True, False, True, True]
    assert table["log_date"].to_list() == [day.date() for day in table["logged_at"]]
    assert (
        table["features_as_of"].to_list() == [dt.date(2026, 11, 1)] * 3 + [None] + [dt.date(2026, 11, 1)] * 2
    )
    # the fourth single row found the queue full, and so did the batch's third
    assert (log.written, log.lost, log.pending) == (6, 2, 0)


def test_prediction_log_adds_its_arm_columns_to_an_older_table(lake):
    older = {name: kind for name, kind in PREDICTION_LOG_SCHEMA.items() if name not in ("arm", "served")}
    stamp = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)
    row = [stamp, stamp.date(), "old", 0.5, "v0", False, stamp.date()]
    lake.append_table(PREDICTION_LOG, pl.DataFrame([row], schema=older, orient="row"), "log_date")
    log = PredictionLog(lake, flush_seconds=60, max_pending=10)
    log.record("new", 0.25, "v1", False, None, "challenger", served=False)
    log.flush()

    table = lake.read_table(PREDICTION_LOG).sort("logged_at")
    assert table.select("customer_id", "arm", "served").rows() == [
        ("old", None, None),
        ("new", "challenger", False),
    ]


@pytest.mark.skipif(sys.platform != "linux", reason="thread priorities are per thread on Linux only")
def test_the_log_writer_runs_below_the_request_thread_priority(lake):
    log = PredictionLog(lake, flush_seconds=60, max_pending=10)
    log.start()
    try:
        expected = min(os.getpriority(os.PRIO_PROCESS, 0) + BACKGROUND_NICENESS, 19)
        writer = log._thread.native_id
        assert writer is not None
        wait_until(lambda: os.getpriority(os.PRIO_PROCESS, writer) == expected, what="a lower priority")
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < expected
    finally:
        log.stop()
