"""Fit the propensity Pipeline on the earlier split, score the later one, and compare with the baseline."""

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from threadpoolctl import threadpool_limits

from ecom_assets.ml.dataset import KEYS, feature_matrix
from ecom_assets.ml.evaluation import RecencyBaseline, calibration_table, evaluate
from ecom_assets.ml.registry import ModelManifest, ModelRegistry
from ecom_assets.ml.split import Split, split
from ecom_assets.transforms.features import FEATURE_NAMES
from ecom_assets.transforms.labels import LABEL

Estimator = Literal["hist_gradient_boosting", "logistic_regression"]


def build_pipeline(estimator: Estimator) -> Pipeline:
    if estimator == "hist_gradient_boosting":
        # Shallow, large-leaf trees without early stopping: a customer's consecutive as-of days are near
        # duplicates, so a random internal validation split would not stop overfitting.
        model = HistGradientBoostingClassifier(
            learning_rate=0.05, max_iter=150, max_depth=3, min_samples_leaf=200, early_stopping=False
        )
        return Pipeline([("model", model.set_params(random_state=0))])
    if estimator == "logistic_regression":
        # Counts and revenue are skewed and never negative: log1p makes them usable for a linear model.
        return Pipeline(
            [
                ("log1p", FunctionTransformer(np.log1p)),
                ("scale", StandardScaler()),
                ("model", LogisticRegression(max_iter=2000)),
            ]
        )
    raise ValueError(f"estimator {estimator!r} is unknown: use hist_gradient_boosting or logistic_regression")


@dataclass(frozen=True)
class TrainingResult:
    pipeline: Pipeline
    split: Split
    metrics: dict[str, float]
    validation_scores: np.ndarray
    calibration: pl.DataFrame


def train(
    dataset: pl.DataFrame,
    estimator: Estimator = "hist_gradient_boosting",
    threads: int = 1,
    max_rows: int | None = None,
) -> TrainingResult:
    """Metrics of the model, and of the recency baseline under ``baseline_*``, on the validation rows.

    ``threads`` caps OpenMP/BLAS: on shared machines, spinning OpenMP workers made training 14x slower.
    ``max_rows`` caps the training rows (a fixed-seed sample; validation keeps every row), so memory and
    time stay bounded however long the history; ``metrics['sampled_from_rows']`` says how many there were.
    """
    with threadpool_limits(limits=threads):
        return _train(dataset, estimator, max_rows)


def _sampled(sides: Split, max_rows: int | None) -> tuple[Split, int]:
    rows = sides.train.height
    if max_rows is None or rows <= max_rows:
        return sides, rows
    return replace(sides, train=sides.train.sample(max_rows, seed=0).sort(KEYS)), rows


def _train(dataset: pl.DataFrame, estimator: Estimator, max_rows: int | None) -> TrainingResult:
    sides, sampled_from = _sampled(split(dataset), max_rows)
    train_labels = sides.train[LABEL].to_numpy()
    if train_labels.min() == train_labels.max():
        raise ValueError(f"training labels are all {train_labels[0]}: widen the training window")
    pipeline = build_pipeline(estimator).fit(feature_matrix(sides.train), train_labels)
    validation_labels = sides.validation[LABEL].to_numpy()
    scores = pipeline.predict_proba(feature_matrix(sides.validation))[:, 1]

    recency = RecencyBaseline.feature
    baseline = RecencyBaseline().fit(sides.train[recency].to_numpy(), train_labels)
    baseline_scores = baseline.predict(sides.validation[recency].to_numpy())
    metrics = {
        **evaluate(validation_labels, scores),
        **{f"baseline_{name}": value for name, value in evaluate(validation_labels, baseline_scores).items()},
        "train_rows": float(sides.train.height),
        "sampled_from_rows": float(sampled_from),
        "validation_rows": float(sides.validation.height),
    }
    return TrainingResult(pipeline, sides, metrics, scores, calibration_table(validation_labels, scores))


def register_candidate(
    registry: ModelRegistry, result: TrainingResult, data_fingerprint: str
) -> ModelManifest:
    """A new registry version holding the model, its windows, metrics and drift references."""
    return registry.register(
        result.pipeline,
        training_window=result.split.window("train"),
        validation_window=result.split.window("validation"),
        feature_names=FEATURE_NAMES,
        metrics=result.metrics,
        split=result.split.kind,
        data_fingerprint=data_fingerprint,
        reference_features=result.split.train.select(FEATURE_NAMES),
        validation_scores=result.validation_scores,
        validation_keys=result.split.validation,
    )
