"""Batch scoring by the champion: one row per customer of features(D), with score, decile and version."""

import datetime as dt
from pathlib import Path

import polars as pl

from ecom_assets.keys import CUSTOMER_DAILY_FEATURES
from ecom_assets.ml.dataset import feature_matrix
from ecom_assets.ml.evaluation import decile
from ecom_assets.ml.registry import LoadedModel, ModelRegistry
from ecom_assets.storage.lake import Lake

BATCH_SCORES_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "as_of_date": pl.Date(),
        "score": pl.Float64(),
        "decile": pl.Int8(),
        "model_version": pl.String(),
    }
)


def require_champion(lake: Lake) -> LoadedModel:
    loaded = ModelRegistry(lake).load_champion()
    if loaded is None:
        raise ValueError("no champion model yet: materialise ml/propensity_model and ml/champion")
    return loaded


def score_features(features: pl.DataFrame, model: LoadedModel) -> pl.DataFrame:
    """Deciles are per as-of date, so a ranged run ranks each day's customers among themselves."""
    if features.height == 0:
        return pl.DataFrame(schema=BATCH_SCORES_SCHEMA)
    scores = model.model.predict_proba(feature_matrix(features, model.manifest.feature_names))[:, 1]
    return (
        features.select("customer_id", "as_of_date")
        .with_columns(score=pl.Series(scores, dtype=pl.Float64), model_version=pl.lit(model.manifest.version))
        .with_columns(decile(pl.col("score")).over("as_of_date").alias("decile"))
        .select(list(BATCH_SCORES_SCHEMA))
        .sort(["as_of_date", "score"], descending=[False, True])
    )


EXPORT_FORMATS = (".csv", ".parquet")


def export_batch_scores(lake: Lake, as_of: dt.date, out: Path) -> int:
    """Score the customers of features(``as_of``) with the champion into a CSV or Parquet campaign file."""
    if out.suffix not in EXPORT_FORMATS:
        raise ValueError(f"--out {out}: the file name must end in .csv or .parquet")
    features = lake.read_table(CUSTOMER_DAILY_FEATURES, "as_of_date", [as_of])
    if features.height == 0:
        raise ValueError(
            f"no features as of {as_of}: materialise {CUSTOMER_DAILY_FEATURES} for that date first"
        )
    scores = score_features(features, require_champion(lake))
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix == ".csv":
        scores.write_csv(out)
    else:
        scores.write_parquet(out)
    return scores.height
