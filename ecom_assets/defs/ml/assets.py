"""The propensity model (trained, validated, registered as a candidate and judged by the gate) and the batch
scores of whichever model ``ml/champion`` chose."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl
from pydantic import Field

from ecom_assets.defs.metadata import figure, markdown_table, table_metadata
from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import asset_key, daily_table
from ecom_assets.keys import (
    BATCH_SCORES,
    CHAMPION,
    CUSTOMER_DAILY_FEATURES,
    LABEL_PURCHASE_NEXT_7D,
    PROPENSITY_MODEL,
)
from ecom_assets.ml.batch_scores import score_by_serving_models
from ecom_assets.ml.dataset import fingerprint, load_training_set
from ecom_assets.ml.gate import GateThresholds, judge
from ecom_assets.ml.readiness import missing_champion, training_dates
from ecom_assets.ml.registry import CHALLENGER_ROLE, CHAMPION_ROLE, ModelRegistry
from ecom_assets.ml.train import Estimator, register_candidate, train
from ecom_assets.settings import get_settings
from ecom_assets.transforms.features import WARM_UP_DAYS

PROMOTION_GATE = "promotion_gate"


class PropensityModelConfig(dg.Config):
    estimator: Estimator = Field(
        "hist_gradient_boosting", description="hist_gradient_boosting or logistic_regression"
    )
    training_dates: int = Field(56, ge=2, description="How many of the latest labelled as-of dates to use")
    last_as_of_date: str | None = Field(
        None, description="Latest as-of date to use (YYYY-MM-DD); default all"
    )
    threads: int = Field(1, ge=1, description="CPU threads for training (more only pays on large data sets)")
    max_training_rows: int | None = Field(
        None, ge=1000, description="Sample the training rows above this many; default ECOM_MAX_TRAINING_ROWS"
    )
    min_history_days: int = Field(
        WARM_UP_DAYS,
        ge=0,
        description="Skip as-of dates this close to the first event: their look-back is not full yet",
    )


@dg.multi_asset(
    name="ml__propensity_model",  # the op name an @asset of this key has, used by run configs
    specs=[
        dg.AssetSpec(
            asset_key(PROPENSITY_MODEL),
            deps=[asset_key(CUSTOMER_DAILY_FEATURES), asset_key(LABEL_PURCHASE_NEXT_7D)],
            group_name="ml",
            kinds={"scikitlearn"},
            # Too little history skips training with its reason: a young lake is no failure.
            skippable=True,
        )
    ],
    check_specs=[
        dg.AssetCheckSpec(
            PROMOTION_GATE,
            asset=asset_key(PROPENSITY_MODEL),
            description="The candidate of this run clears the gate against the current champion, with the "
            "default thresholds; ml/champion applies the decision.",
        )
    ],
    # Lets a skipped training yield no gate result either (check outputs are optional only in a subsettable
    # multi-asset).
    can_subset=True,
)
def propensity_model(
    context: dg.AssetExecutionContext, config: PropensityModelConfig, lake_resource: LakeResource
):
    """A purchase-in-7-days classifier trained on earlier as-of dates, validated on later ones, registered as
    a candidate and judged by the promotion gate; ``ml/champion`` decides whether it serves."""
    lake = lake_resource.get_lake()
    last = dt.date.fromisoformat(config.last_as_of_date) if config.last_as_of_date else None
    dates, shortfall = training_dates(lake, config.training_dates, last, config.min_history_days)
    if shortfall:
        context.log.warning(f"{PROPENSITY_MODEL}: skipped, {shortfall}")
        return
    dataset = load_training_set(lake, dates)
    max_rows = config.max_training_rows or get_settings().max_training_rows
    result = train(dataset, config.estimator, config.threads, max_rows)
    sampled_from = int(result.metrics["sampled_from_rows"])
    sampling = (
        f"{int(result.metrics['train_rows']):,} of {sampled_from:,} training rows (cap {max_rows:,})"
        if sampled_from > result.metrics["train_rows"]
        else "no: every training row"
    )
    manifest = register_candidate(ModelRegistry(lake), result, fingerprint(dataset))
    context.log.info(f"registered candidate {manifest.version}: ROC-AUC {result.metrics['roc_auc']:.3f}")
    yield dg.MaterializeResult(
        metadata={
            "model_version": manifest.version,
            "estimator": config.estimator,
            "split": result.split.kind,
            "sampled": sampling,
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
    # Without a champion there is nothing to score with: skipped with the reason, so drift skips too.
    output_required=False,
    **daily_table("as_of_date"),
)
def batch_scores(
    context: dg.AssetExecutionContext, features: pl.DataFrame, lake_resource: LakeResource
) -> Iterator[dg.Output[pl.DataFrame]]:
    """Every customer of features(D) scored by the champion, with score decile (1 = highest) for CRM; and,
    while a challenger is set, scored by it too (arm ``challenger``), for its realised performance."""
    lake = lake_resource.get_lake()
    no_champion = missing_champion(lake)
    if no_champion:
        context.log.warning(f"{BATCH_SCORES}: skipped, {no_champion}")
        return
    scores = score_by_serving_models(features, ModelRegistry(lake))
    versions = dict(scores.select("arm", "model_version").unique().iter_rows())
    yield dg.Output(
        scores,
        metadata=table_metadata(
            scores,
            model_version=versions.get(CHAMPION_ROLE, "none"),
            challenger_version=versions.get(CHALLENGER_ROLE, "none"),
            mean_score=figure(scores.filter(pl.col("arm") == CHAMPION_ROLE), pl.col("score").mean()),
        ),
    )
