"""Realised performance: what each model scored on D against what customers did in D+1 .. D+7."""

import base64
import datetime as dt

import dagster as dg
import polars as pl
from pydantic import Field

from ecom_assets.defs.horizon import require_complete_horizon
from ecom_assets.defs.metadata import markdown_table, table_metadata
from ecom_assets.defs.partitions import label_horizon, partition_dates
from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import asset_key, daily_table
from ecom_assets.keys import BATCH_SCORES, FACT_EVENTS, MODEL_PERFORMANCE, PREDICTION_LOG
from ecom_assets.ml.bootstrap import DEFAULT_RESAMPLES
from ecom_assets.ml.performance_chart import roc_auc_chart
from ecom_assets.ml.realised import (
    batch_scored,
    online_scored,
    realised_against_validation,
    realised_performance,
    with_outcomes,
    with_validation,
)
from ecom_assets.storage.lake import Lake

CHART_DAYS = 60
SHOWN = [
    "as_of_date",
    "source",
    "model_version",
    "arm",
    "rows",
    "positives",
    "roc_auc",
    "roc_auc_low",
    "roc_auc_high",
    "validation_roc_auc",
    "pr_auc",
    "brier",
    "lift_top10",
    "precision_top10",
]


class ModelPerformanceConfig(dg.Config):
    resamples: int = Field(DEFAULT_RESAMPLES, ge=100, description="Bootstrap resamples per interval")


def _online_scores(lake: Lake, dates: list[dt.date]) -> pl.DataFrame | None:
    if not lake.table_exists(PREDICTION_LOG):
        return None
    return online_scored(lake.read_table(PREDICTION_LOG, "log_date", dates))


def _chart_history(lake: Lake, performance: pl.DataFrame, first: dt.date) -> pl.DataFrame:
    """This run's rows after the table's earlier days, so the chart shows a trend, not one point."""
    if not lake.table_exists(MODEL_PERFORMANCE):
        return performance
    earlier = lake.scan_table(MODEL_PERFORMANCE).filter(
        (pl.col("as_of_date") < first) & (pl.col("as_of_date") >= first - dt.timedelta(days=CHART_DAYS))
    )
    return pl.concat([earlier.collect(), performance], how="diagonal_relaxed")


def _calibration(performance: pl.DataFrame) -> pl.DataFrame:
    """Mean score and observed rate per decile (1 = highest scores), one column pair per version and arm."""
    last = performance.filter(pl.col("as_of_date") == pl.col("as_of_date").max())
    columns = {"decile": list(range(1, 11))}
    for row in last.iter_rows(named=True):
        name = f"{row['source']} {row['model_version'][:15]} {row['arm']}"
        columns[f"{name} score"] = row["decile_mean_score"] + [None] * (10 - len(row["decile_mean_score"]))
        columns[f"{name} observed"] = row["decile_observed_rate"] + [None] * (
            10 - len(row["decile_observed_rate"])
        )
    return pl.DataFrame(columns)


def _metadata(lake: Lake, performance: pl.DataFrame, dates: list[dt.date]) -> dict:
    history = _chart_history(lake, performance, dates[0])
    chart = roc_auc_chart(history)
    promises = realised_against_validation(history).with_columns(pl.selectors.float().round(3))
    encoded = base64.b64encode(chart.encode()).decode()
    shown = performance.select(SHOWN).with_columns(pl.selectors.float().round(3))
    return table_metadata(
        performance,
        performance_table=markdown_table(shown, max_rows=40, max_width=24),
        roc_auc_by_day=dg.MetadataValue.md(
            f"![realised ROC-AUC by day](data:image/svg+xml;base64,{encoded})"
        ),
        calibration_by_decile=markdown_table(_calibration(performance), max_rows=10, max_width=24),
        realised_against_validation=markdown_table(promises, max_rows=20, max_width=26),
        model_versions=", ".join(sorted(set(performance["model_version"]))) or "none",
    )


@dg.asset(
    key=asset_key(MODEL_PERFORMANCE),
    ins={
        "facts": dg.AssetIn(asset_key(FACT_EVENTS), partition_mapping=label_horizon),
        "batch_scores": dg.AssetIn(asset_key(BATCH_SCORES)),
    },
    # The log is read directly: days on which the service scored nothing have no rows, which is no error.
    deps=[asset_key(PREDICTION_LOG)],
    group_name="monitoring",
    **daily_table("as_of_date"),
)
def model_performance(
    context: dg.AssetExecutionContext,
    config: ModelPerformanceConfig,
    facts: pl.DataFrame,
    batch_scores: pl.DataFrame,
    lake_resource: LakeResource,
) -> dg.Output[pl.DataFrame]:
    """ROC-AUC, PR-AUC, Brier, lift and precision in the top 10% and calibration by decile of every model
    version and arm that scored on D (batch scores and the service's log), with 95% bootstrap intervals,
    against purchases in D+1 .. D+7; runs once those days have landed."""
    require_complete_horizon(context)
    lake = lake_resource.get_lake()
    dates = partition_dates(context)
    online = _online_scores(lake, dates)
    scored = pl.concat([batch_scored(batch_scores), *([] if online is None else [online])])
    measured = realised_performance(with_outcomes(scored, facts), config.resamples)
    performance = with_validation(measured, lake, config.resamples)
    context.log.info(f"realised performance of {performance.height} version/arm/day groups")
    return dg.Output(performance, metadata=_metadata(lake, performance, dates))
