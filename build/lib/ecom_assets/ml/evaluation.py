"""Validation metrics, the naive recency baseline they are compared with, and a calibration/lift table."""

import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

TOP_SHARE = 0.10


def _top_mask(scores: np.ndarray, share: float = TOP_SHARE) -> np.ndarray:
    """The highest-scored share of rows (ties broken by row order, so the count is exact)."""
    n_top = max(1, int(np.ceil(len(scores) * share)))
    mask = np.zeros(len(scores), dtype=bool)
    mask[np.argsort(-scores, kind="stable")[:n_top]] = True
    return mask


def evaluate(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    labels = np.asarray(labels, dtype=int)
    if labels.min() == labels.max():
        raise ValueError(
            f"validation labels are all {labels[0]}: ROC-AUC is undefined; widen the training window "
            "or simulate more customers"
        )
    base_rate = float(labels.mean())
    precision_top = float(labels[_top_mask(scores)].mean())
    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "pr_auc": float(average_precision_score(labels, scores)),
        "brier": float(brier_score_loss(labels, scores)),
        "base_rate": base_rate,
        "precision_top10": precision_top,
        "lift_top10": precision_top / base_rate,
    }


class RecencyBaseline:
    """Purchase rate by days since the last visit, learned on the training rows: the model must beat it."""

    feature = "days_since_last_visit"

    def fit(self, recency: np.ndarray, labels: np.ndarray) -> "RecencyBaseline":
        frame = pl.DataFrame({"days": recency, "label": labels})
        rates = frame.group_by("days").agg(pl.col("label").mean())
        self.rates = dict(zip(rates["days"].to_list(), rates["label"].to_list(), strict=True))
        self.base_rate = float(np.mean(labels))
        return self

    def predict(self, recency: np.ndarray) -> np.ndarray:
        return np.array([self.rates.get(days, self.base_rate) for days in recency.tolist()], dtype=np.float64)


def decile(score: pl.Expr) -> pl.Expr:
    """Equal-count score bins, 1 = highest scores (ties broken by row order); use ``.over()`` per group."""
    rank = score.rank("ordinal", descending=True)
    return ((rank - 1) * 10 // score.len() + 1).cast(pl.Int8)


def calibration_table(labels: np.ndarray, scores: np.ndarray) -> pl.DataFrame:
    """Per score decile (1 = highest): rows, mean predicted, observed rate and lift over the base rate."""
    frame = pl.DataFrame({"score": scores, "label": np.asarray(labels, dtype=np.float64)})
    return (
        frame.with_columns(decile(pl.col("score")).alias("decile"))
        .group_by("decile")
        .agg(
            pl.len().alias("rows"),
            pl.col("score").mean().round(4).alias("mean_score"),
            pl.col("label").mean().round(4).alias("observed_rate"),
        )
        .with_columns((pl.col("observed_rate") / float(np.mean(labels))).round(2).alias("lift"))
        .sort("decile")
    )
