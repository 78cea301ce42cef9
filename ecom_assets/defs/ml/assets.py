"""The propensity model (trained, validated, registered as a candidate and judged by the gate) and the batch
scores of whichever model ``ml/champion`` chose."""

import datetime as dt

import dagster as dg
import polars as pl
from pydantic import Field

from ecom_assets.defs.metadata import markdown_table, table_metadata
from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import asset_key, daily_table
from ecom_assets.keys import (
    BATCH_SCORES,
    CHAMPION,
    CUSTOMER_DAILY_FEATURES,
    FACT_EVENTS,
    LABEL_PURCHASE_NEXT_7D,
    PROPENSITY_MODEL,
)
from ecom_assets.ml.batch_scores import score_by_serving_models
from ecom_assets.ml.dataset import fingerprint, labelled_dates, load_training_set
from ecom_assets.ml.gate import GateThresholds, judge
from ecom_assets.ml.registry import CHALLENGER_ROLE, CHAMPION_ROLE, ModelRegistry
from ecom_assets.ml.train import register_candidate, train
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.features import FEATURE_LOOKBACK_DAYS

PROMOTION_GATE = "promotion_gate"


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


def _training_dates(lake: Lake, config: PropensityModelConfig) -> list[dt.date]:
    """The latest labelled as-of dates whose features saw a full look-back (warm-up days would teach the
    model, and the drift reference, what a young lake looks like rather than what customers do)."""
    last = dt.date.fromisoformat(config.last_as_of_date) if config.last_as_of_date else None
    first_event = lake.scan_table(FACT_EVENTS).select(pl.col("event_date").min()).collect().item()
    warm = first_event + dt.timedelta(days=config.min_history_days)
    dates = [day for day in labelled_dates(lake, last) if day >= warm][-config.training_dates :]
    if len(dates) < 2:
        raise ValueError(
            f"only {len(dates)} as-of dates from {warm} on have complete labels: materialise "
            f"{LABEL_PURCHASE_NEXT_7D} for more days (events must exist 7 days past each as-of date), "
            "or lower min_history_days"
        )
    return dates


@dg.asset(
    key=asset_key(PROPENSITY_MODEL),
    deps=[asset_key(CUSTOMER_DAILY_FEATURES), asset_key(LABEL_PURCHASE_NEXT_7D)],
    group_name="ml",
    kinds={"scikitlearn"},
    check_specs=[
        dg.AssetCheckSpec(
            PROMOTION_GATE,
            asset=asset_key(PROPENSITY_MODEL),
            description="The candidate of this run clears the gate against the current champion, with the "
            "default thresholds; ml/champion applies the decision.",
        )
    ],
)
def propensity_model(
    context: dg.AssetExecutionContext, config: PropensityModelConfig, lake_resource: LakeResource
):
    """A purchase-in-7-days classifier trained on earlier as-of dates, validated on later ones, registered as
    a candidate and judged by the promotion gate; ``ml/champion`` decides whether it serves."""
    lake = lake_resource.get_lake()
    dates = _training_dates(lake, config)
    dataset = load_training_set(lake, dates)
    result = train(dataset, config.estimator, config.threads)
    manifest = register_candidate(ModelRegistry(lake), result, fingerprint(dataset))
    context.log.info(f"registered candidate {manifest.version}: ROC-AUC {result.metrics['roc_auc']:.3f}")
    yield dg.MaterializeResult(
        metadata={
            "model_version": manifest.version,
            "estimator": config.estimator,
            "split": result.split.kind,
            "training_window": " .. ".join(map(str, manifest.training_window)),
            "validation_window": " .. ".join(map(str, manifest.validation_window)),
            **{name: dg.MetadataValue.float(value) for name, value in result.metrics.items()},
            "calibration_and_lift": markdown_table(result.calibration, max_rows=10),
            "sha256": manifest.sha256,
            "data_fingerprint": manifest.data_fingerprint,
        }
    )
    decision = judge(lake, manifest.version, GateThresholds())
    # Not promoting is a normal outcome, so a failed gate warns rather than fails the run.
    yield dg.AssetCheckResult(
        check_name=PROMOTION_GATE,
        passed=decision.promote,
        severity=dg.AssetCheckSeverity.WARN,
        description="; ".join(decision.reasons),
        metadata={"candidate_version": manifest.version, "champion": decision.champion_version or "none"},
    )


@dg.asset(
    key=asset_key(BATCH_SCORES),
    ins={"features": dg.AssetIn(asset_key(CUSTOMER_DAILY_FEATURES))},
    deps=[asset_key(CHAMPION)],
    group_name="ml",
    **daily_table("as_of_date"),
)
def batch_scores(features: pl.DataFrame, lake_resource: LakeResource) -> dg.Output[pl.DataFrame]:
    """Every customer of features(D) scored by the champion, with score decile (1 = highest) for CRM; and,
    while a challenger is set, scored by it too (arm ``challenger``), for its realised performance."""
    scores = score_by_serving_models(features, ModelRegistry(lake_resource.get_lake()))
    versions = dict(scores.select("arm", "model_version").unique().iter_rows())
    return dg.Output(
        scores,
        metadata=table_metadata(
            scores,
            model_version=versions.get(CHAMPION_ROLE, "none"),
            challenger_version=versions.get(CHALLENGER_ROLE, "none"),
            mean_score=float(scores.filter(pl.col("arm") == CHAMPION_ROLE)["score"].mean() or 0.0),
        ),
    )
