"""The propensity model (trained, validated and registered as a candidate) and the champion's batch scores."""

import datetime as dt

import dagster as dg
import polars as pl
from pydantic import Field

from ecom_assets.assets.metadata import table_metadata
from ecom_assets.assets.tables import daily_table
from ecom_assets.ml.dataset import fingerprint, labelled_dates, load_training_set
from ecom_assets.ml.metrics import markdown_table
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.ml.scoring import champion, score_features
from ecom_assets.ml.train import register_candidate, train
from ecom_assets.partitions import FEATURE_LOOKBACK_DAYS
from ecom_assets.resources.lake import LakeResource

PROPENSITY_MODEL = dg.AssetKey(["ml", "propensity_model"])


class PropensityModelConfig(dg.Config):
    estimator: str = Field(
        "hist_gradient_boosting", description="hist_gradient_boosting or logistic_regression"
    )
    training_dates: int = Field(56, ge=2, description="How many of the latest labelled as-of dates to use")
    last_as_of_date: str | None = Field(
        None, description="Latest as-of date to use (YYYY-MM-DD); default all"
    )
    threads: int = Field(1, ge=1, description="CPU threads for training (more only pays on large data sets)")
    min_history_days: int = Field(
        FEATURE_LOOKBACK_DAYS - 1,
        ge=0,
        description="Skip as-of dates this close to the first event: their look-back is not full yet",
    )


def _training_dates(lake, config: PropensityModelConfig) -> list[dt.date]:
    """The latest labelled as-of dates whose features saw a full look-back (warm-up days would teach the
    model, and the drift reference, what a young lake looks like rather than what customers do)."""
    last = dt.date.fromisoformat(config.last_as_of_date) if config.last_as_of_date else None
    first_event = lake.scan_table("gold/fact_events").select(pl.col("event_date").min()).collect().item()
    warm = first_event + dt.timedelta(days=config.min_history_days)
    dates = [day for day in labelled_dates(lake, last) if day >= warm][-config.training_dates :]
    if len(dates) < 2:
        raise ValueError(
            f"only {len(dates)} as-of dates from {warm} on have complete labels: materialise "
            "gold/label_purchase_next_7d for more days (events must exist 7 days past each as-of date), "
            "or lower min_history_days"
        )
    return dates


@dg.asset(
    key=PROPENSITY_MODEL,
    deps=[["gold", "customer_daily_features"], ["gold", "label_purchase_next_7d"]],
    group_name="ml",
    kinds={"scikitlearn"},
)
def propensity_model(
    context: dg.AssetExecutionContext, config: PropensityModelConfig, lake: LakeResource
) -> dg.MaterializeResult:
    """A purchase-in-7-days classifier trained on earlier as-of dates, validated on later ones, registered as
    a candidate; the promotion_gate check decides whether it becomes champion."""
    store = lake.get_lake()
    dates = _training_dates(store, config)
    dataset = load_training_set(store, dates)
    result = train(dataset, config.estimator, config.threads)
    manifest = register_candidate(ModelRegistry(store), result, fingerprint(dataset))
    context.log.info(f"registered candidate {manifest.version}: ROC-AUC {result.metrics['roc_auc']:.3f}")
    return dg.MaterializeResult(
        metadata={
            "model_version": manifest.version,
            "estimator": config.estimator,
            "split": result.split.kind,
            "training_window": " .. ".join(map(str, manifest.training_window)),
            "validation_window": " .. ".join(map(str, manifest.validation_window)),
            **{name: dg.MetadataValue.float(value) for name, value in result.metrics.items()},
            "calibration_and_lift": dg.MetadataValue.md(markdown_table(result.calibration)),
            "sha256": manifest.sha256,
            "data_fingerprint": manifest.data_fingerprint,
        }
    )


@dg.asset(
    key=["ml", "batch_scores"],
    ins={"features": dg.AssetIn(["gold", "customer_daily_features"])},
    deps=[PROPENSITY_MODEL],
    group_name="ml",
    **daily_table("as_of_date"),
)
def batch_scores(features: pl.DataFrame, lake: LakeResource) -> dg.Output[pl.DataFrame]:
    """Every customer of features(D) scored by the champion, with score decile (1 = highest) for CRM."""
    model = champion(lake.get_lake())
    scores = score_features(features, model)
    return dg.Output(
        scores,
        metadata=table_metadata(
            scores, model_version=model.manifest.version, mean_score=float(scores["score"].mean() or 0.0)
        ),
    )
