"""Scoring rows exactly as ``model.predict_proba(X)[:, 1]`` does, without sklearn's per-call cost on one row.

For a single row, ``HistGradientBoostingClassifier.predict_proba`` spends about a millisecond: input
validation, then one Python call and one OpenMP parallel region per tree. The service mostly scores one
row at a time, so for a binary, numeric-only HistGradientBoosting model the trees are flattened into
node arrays once per model load and a row is routed through all of them with a handful of numpy calls.
The raw score is summed tree by tree in sklearn's order and put through the model's own link function,
so the result is bit-identical; the service still checks that on sample rows before it serves a model,
and falls back to ``predict_proba`` for any other model.
"""

from __future__ import annotations

import logging

import numpy as np
from scipy import special
from sklearn._loss.link import LogitLink
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline

from ecom_assets.ml.registry import Classifier

log = logging.getLogger(__name__)


class FlatForest:
    """The trees of a fitted binary HistGradientBoostingClassifier as flat node arrays."""

    def __init__(self, estimator: HistGradientBoostingClassifier):
        trees = [iteration[0].nodes for iteration in estimator._predictors]
        # sklearn starts from the baseline and adds the trees one by one: a first "tree" that is one leaf
        # holding the baseline lets one cumsum over the leaves reached add them in that order.
        baseline = np.zeros(1, dtype=trees[0].dtype)
        baseline["is_leaf"], baseline["value"] = 1, estimator._baseline_prediction.ravel()[0]
        trees.insert(0, baseline)
        sizes = np.array([len(nodes) for nodes in trees])
        self.roots = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.intp)
        nodes = np.concatenate(trees)
        offsets = np.repeat(self.roots, sizes)
        is_leaf = nodes["is_leaf"].astype(bool)
        # A leaf points at itself, so routing every tree for the deepest tree's depth is harmless.
        itself = np.arange(len(nodes))
        self.left = np.where(is_leaf, itself, nodes["left"].astype(np.intp) + offsets)
        self.right = np.where(is_leaf, itself, nodes["right"].astype(np.intp) + offsets)
        self.feature = np.where(is_leaf, 0, nodes["feature_idx"]).astype(np.intp)
        self.threshold = nodes["num_threshold"]
        self.missing_go_left = nodes["missing_go_to_left"].astype(bool)
        self.value = nodes["value"]
        self.depth = int(nodes["depth"].max())
        # The positive-class probability predict_proba computes: the loss's inverse link of the raw score;
        # for the logit link that is scipy's expit, which sklearn calls after an array-API dispatch.
        link = estimator._loss.link
        self.inverse_link = special.expit if isinstance(link, LogitLink) else link.inverse

    @classmethod
    def supports(cls, estimator: object) -> bool:
        return (
            isinstance(estimator, HistGradientBoostingClassifier)
            and estimator.n_trees_per_iteration_ == 1
            and estimator._preprocessor is None
            and (estimator.is_categorical_ is None or not estimator.is_categorical_.any())
        )

    def score_one(self, row: np.ndarray) -> float:
        """Positive-class probability of one 1-D float64 row."""
        values = row.take(self.feature)
        goes_left = values <= self.threshold
        if np.isnan(row).any():
            goes_left = np.where(np.isnan(values), self.missing_go_left, goes_left)
        next_node = np.where(goes_left, self.left, self.right)
        node = self.roots
        for _ in range(self.depth):
            node = next_node.take(node)
        return float(self.inverse_link(self.value.take(node).cumsum()[-1:])[0])


def _final_estimator(model: object) -> object | None:
    """The estimator that sees the raw feature matrix unchanged, if the model is one."""
    if not isinstance(model, Pipeline):
        return model
    if all(step in (None, "passthrough") for _, step in model.steps[:-1]):
        return model.steps[-1][1]
    return None


class Scorer:
    """Positive-class probabilities of a fitted classifier; one row takes the flat-forest path when it can."""

    def __init__(self, model: Classifier, check_rows: np.ndarray):
        self.model = model
        estimator = _final_estimator(model)
        forest = FlatForest(estimator) if FlatForest.supports(estimator) else None
        if forest is not None and not self._forest_matches(forest, check_rows):
            log.warning("flat-forest scores differ from predict_proba; serving through predict_proba")
            forest = None
        self.forest = forest

    def _forest_matches(self, forest: FlatForest, rows: np.ndarray) -> bool:
        expected = self.score_many(rows)
        return all(forest.score_one(row) == score for row, score in zip(rows, expected, strict=True))

    def score_many(self, rows: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(rows)[:, 1]

    def score_one(self, row: np.ndarray) -> float:
        if self.forest is None:
            return float(self.score_many(row.reshape(1, -1))[0])
        return self.forest.score_one(row)
