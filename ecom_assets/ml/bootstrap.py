"""Percentile bootstrap intervals over rows (customers), vectorised so thousands of resamples stay cheap.

Metrics take (resamples × rows) matrices of labels and scores and return one value per resample; the
same resampled rows serve both models of a paired comparison.
"""

from collections.abc import Callable, Iterator

import numpy as np
from scipy.stats import rankdata

DEFAULT_RESAMPLES = 1000
CONFIDENCE = 0.95
# Resamples drawn at once: bounds memory to CHUNK × rows values whatever the table size.
CHUNK = 50

Metric = Callable[[np.ndarray, np.ndarray], np.ndarray]


def roc_auc_of(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """ROC-AUC of each row by the rank-sum (Mann-Whitney) formula, ties averaged; NaN with one class."""
    ranks = rankdata(scores, axis=-1)
    positives = labels.sum(axis=-1)
    negatives = labels.shape[-1] - positives
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((ranks * labels).sum(axis=-1) - positives * (positives + 1) / 2) / (positives * negatives)


def brier_of(labels: np.ndarray, scores: np.ndarray) -> np.ndarray:
    return np.mean((scores - labels) ** 2, axis=-1)


def _resampled_rows(
    rows: int, resamples: int, rng: np.random.Generator, size: int | None = None
) -> Iterator[np.ndarray]:
    for start in range(0, resamples, CHUNK):
        yield rng.integers(0, rows, size=(min(CHUNK, resamples - start), size or rows))


def _percentiles(values: np.ndarray) -> tuple[float | None, float | None]:
    values = values[~np.isnan(values)]
    if not len(values):
        return None, None
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def bootstrap_interval(
    metric: Metric,
    labels: np.ndarray,
    scores: np.ndarray,
    resamples: int,
    rng: np.random.Generator,
    size: int | None = None,
) -> tuple[float | None, float | None]:
    """The 95% interval of ``metric``; (None, None) when no resample defines it.

    With ``size``, resamples have that many rows instead of as many as the data: the range the metric
    takes on a sample of that size drawn from the same population.
    """
    labels, scores = np.asarray(labels, dtype=np.float64), np.asarray(scores, dtype=np.float64)
    draws = _resampled_rows(len(labels), resamples, rng, size)
    values = [metric(labels[rows], scores[rows]) for rows in draws]
    return _percentiles(np.concatenate(values)) if len(labels) else (None, None)


def paired_difference_interval(
    labels: np.ndarray,
    first: np.ndarray,
    second: np.ndarray,
    resamples: int,
    rng: np.random.Generator,
    metric: Metric = roc_auc_of,
) -> tuple[float | None, float | None]:
    """The 95% interval of ``metric(second) - metric(first)`` when both models scored the same rows:
    each resample draws customers once and scores them with both, so customer-to-customer variation
    cancels out of the difference."""
    labels = np.asarray(labels, dtype=np.float64)
    first, second = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    differences = [
        metric(labels[rows], second[rows]) - metric(labels[rows], first[rows])
        for rows in _resampled_rows(len(labels), resamples, rng)
    ]
    return _percentiles(np.concatenate(differences)) if len(labels) else (None, None)
