"""Drift of one as-of date against the champion: PSI of every model feature and of the predictions.

The reference is stored with the model (``ModelRegistry.reference_features`` / ``validation_scores``),
so a report always compares against exactly what the champion saw. Bins come from ``ecom_assets.ml.psi``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from ecom_assets.ml.psi import DEFAULT_BINS, DEFAULT_THRESHOLDS, PsiThresholds, psi, quantile_edges
from ecom_assets.ml.registry import ModelRegistry

SCORE = "score"
DRIFT_SCHEMA = pl.Schema(
    {
        "as_of_date": pl.Date(),
        "kind": pl.String(),  # 'feature' or 'prediction'
        "name": pl.String(),  # the feature, or 'batch_score' / 'online_score'
        "psi": pl.Float64(),
        "status": pl.String(),
        "reference_rows": pl.Int64(),
        "current_rows": pl.Int64(),
        "model_version": pl.String(),
    }
)


def report_path(as_of: dt.date) -> str:
    """Lake-relative path of evidently's HTML page for one as-of date."""
    return f"monitoring/reports/drift_{as_of.isoformat()}.html"


class NoChampionError(LookupError):
    """Drift is measured against the champion's reference, and there is no champion yet."""


@dataclass(frozen=True)
class DriftReference:
    """The champion's training features and validation scores, with their bins computed once."""

    model_version: str
    features: pl.DataFrame
    scores: pl.DataFrame
    feature_edges: dict[str, np.ndarray]
    score_edges: dict[str, np.ndarray]

    @classmethod
    def of_champion(cls, registry: ModelRegistry, bins: int = DEFAULT_BINS) -> DriftReference:
        version = registry.champion_version()
        if version is None:
            raise NoChampionError(
                "no champion model to measure drift against: materialise ml/propensity_model and "
                "ml/champion first"
            )
        features = registry.reference_features(version).select(registry.manifest(version).feature_names)
        scores = pl.DataFrame({SCORE: registry.validation_scores(version)})
        return cls(version, features, scores, quantile_edges(features, bins), quantile_edges(scores, bins))


def _compare(
    kind: str,
    reference: pl.DataFrame,
    current: pl.DataFrame,
    edges: dict[str, np.ndarray],
    name: str | None = None,
) -> pl.DataFrame:
    values = psi(reference, current, edges)
    return pl.DataFrame(
        {
            "kind": kind,
            "name": [name] if name else list(values),
            "psi": list(values.values()),
            "reference_rows": reference.height,
            "current_rows": current.height,
        }
    )


def _champion_scores(scores: pl.DataFrame, reference: DriftReference, as_of: dt.date) -> pl.DataFrame:
    if scores.height == 0:
        raise ValueError(f"ml/batch_scores has no rows for {as_of}: materialise that partition first")
    by_champion = scores.filter(pl.col("model_version") == reference.model_version)
    if not by_champion.height:
        raise ValueError(
            f"ml/batch_scores for {as_of} come from model version(s) {sorted(set(scores['model_version']))}, "
            f"not the champion {reference.model_version}: re-materialise ml/batch_scores for {as_of}"
        )
    return by_champion.select(SCORE)


def drift_of_day(
    reference: DriftReference,
    as_of: dt.date,
    features: pl.DataFrame,
    batch_scores: pl.DataFrame,
    online_scores: pl.DataFrame | None = None,
    thresholds: PsiThresholds = DEFAULT_THRESHOLDS,
) -> pl.DataFrame:
    """One row per feature and per prediction source (``DRIFT_SCHEMA``), most drifted first.

    Online scores (the prediction log of that day) count only where the champion served them: scores of
    an earlier model say nothing about this one.
    """
    if features.height == 0:
        raise ValueError(
            f"gold/customer_daily_features has no rows for {as_of}: materialise that partition first"
        )
    batch = _champion_scores(batch_scores, reference, as_of)
    parts = [
        _compare("feature", reference.features, features, reference.feature_edges),
        _compare("prediction", reference.scores, batch, reference.score_edges, "batch_score"),
    ]
    if online_scores is not None:
        online = online_scores.filter(pl.col("model_version") == reference.model_version).select(SCORE)
        if online.height:
            parts.append(
                _compare("prediction", reference.scores, online, reference.score_edges, "online_score")
            )
    table = pl.concat(parts)
    return (
        table.with_columns(
            as_of_date=pl.lit(as_of),
            status=pl.Series([thresholds.status(value) for value in table["psi"]], dtype=pl.String),
            model_version=pl.lit(reference.model_version),
        )
        .select(list(DRIFT_SCHEMA))
        .cast(DRIFT_SCHEMA)
        .sort("psi", "name", descending=[True, False])
    )
