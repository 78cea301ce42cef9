"""Batch scoring: one row per customer of features(D) and serving model, with score, decile, version and
arm (the champion's rows are the campaign list; a challenger's rows are its shadow scores)."""

import datetime as dt
from pathlib import Path

import polars as pl

from ecom_assets.keys import CUSTOMER_DAILY_FEATURES
from ecom_assets.ml.dataset import feature_matrix
from ecom_assets.ml.evaluation import decile
from ecom_assets.ml.registry import CHALLENGER_ROLE, CHAMPION_ROLE, LoadedModel, ModelRegistry
from ecom_assets.storage.lake import Lake

BATCH_SCORES_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String(),
        "as_of_date": pl.Date(),
        "score": pl.Float64(),
        "decile": pl.Int8(),
        "model_version": pl.String(),
        "arm": pl.String(),
    }
)


def require_champion(lake: Lake) -> LoadedModel:
    loaded = ModelRegistry(lake).load_champion()
    if loaded is None:
        raise ValueError("no champion model yet: materialise ml/propensity_model and ml/champion")
    return loaded


def score_features(features: pl.DataFrame, model: LoadedModel, arm: str = CHAMPION_ROLE) -> pl.DataFrame:
    """Deciles are per as-of date, so a ranged run ranks each day's customers among themselves."""
    if features.height == 0:
        return pl.DataFrame(schema=BATCH_SCORES_SCHEMA)
    scores = model.model.predict_proba(feature_matrix(features, model.manifest.feature_names))[:, 1]
    return (
        features.select("customer_id", "as_of_date")
        .with_columns(
            score=pl.Series(scores, dtype=pl.Float64),
            model_version=pl.lit(model.manifest.version),
            arm=pl.lit(arm),
        )
        .with_columns(decile(pl.col("score")).over("as_of_date").alias("decile"))
        .select(list(BATCH_SCORES_SCHEMA))
        .sort(["as_of_date", "score"], descending=[False, True])
    )


def score_by_serving_models(features: pl.DataFrame, registry: ModelRegistry) -> pl.DataFrame:
    """The champion's scores, and the challenger's beside them when one is set, so realised performance
    can compare the two on the same customers."""
    scores = [score_features(features, require_champion(registry.lake))]
    challenger = registry.load_role(CHALLENGER_ROLE)
    if challenger is not None:
        scores.append(score_features(features, challenger, CHALLENGER_ROLE))
    return pl.concat(scores)


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
