"""Realised performance: what was scored on D, joined with whether the customer bought in D+1 .. D+7.

Batch scores and the service's prediction log are read as one frame of scored rows (``SCORED_SCHEMA``);
the outcome is the training label computed the same way, so realised and validation metrics mean the
same thing. Intervals are percentile bootstraps over customers.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from ecom_assets.keys import BATCH_SCORES, FACT_EVENTS, LABEL_PURCHASE_NEXT_7D, PREDICTION_LOG
from ecom_assets.ml.bootstrap import DEFAULT_RESAMPLES, bootstrap_interval, brier_of, roc_auc_of
from ecom_assets.ml.dataset import KEYS
from ecom_assets.ml.evaluation import calibration_table, evaluate
from ecom_assets.ml.registry import CHAMPION_ROLE, ModelRegistry
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.labels import LABEL, LABEL_HORIZON_DAYS, build_label_purchase_next_7d

SCORED_SCHEMA = pl.Schema(
    {
        "customer_id": pl.String,
        "as_of_date": pl.Date,
        "score": pl.Float64,
        "model_version": pl.String,
        "arm": pl.String,
        "source": pl.String,  # 'batch' or 'online'
    }
)
GROUP = ["as_of_date", "source", "model_version", "arm"]
# Instances, not classes, so the mapping has one value type.
PERFORMANCE_SCHEMA = pl.Schema(
    {
        **{name: SCORED_SCHEMA[name] for name in GROUP},
        "rows": pl.Int64(),
        "positives": pl.Int64(),
        "base_rate": pl.Float64(),
        "roc_auc": pl.Float64(),
        "roc_auc_low": pl.Float64(),
        "roc_auc_high": pl.Float64(),
        "pr_auc": pl.Float64(),
        "brier": pl.Float64(),
        "brier_low": pl.Float64(),
        "brier_high": pl.Float64(),
        "precision_top10": pl.Float64(),
        "lift_top10": pl.Float64(),
        "decile_mean_score": pl.List(pl.Float64),  # decile 1 (highest scores) first
        "decile_observed_rate": pl.List(pl.Float64),
        "validation_roc_auc": pl.Float64(),  # what the model was promoted with
        "validation_roc_auc_low": pl.Float64(),  # the range validation predicts for a day of this many rows
        "validation_roc_auc_high": pl.Float64(),
        "out_of_time": pl.Boolean(),  # scored after the model's validation window: a fair test
    }
)

VALIDATION_COLUMNS = (
    "validation_roc_auc",
    "validation_roc_auc_low",
    "validation_roc_auc_high",
    "out_of_time",
)


def batch_scored(batch_scores: pl.DataFrame) -> pl.DataFrame:
    """``ml/batch_scores`` rows as scored rows; rows written before arms existed are the champion's."""
    arm = pl.col("arm").fill_null(CHAMPION_ROLE) if "arm" in batch_scores.columns else pl.lit(CHAMPION_ROLE)
    return batch_scores.select(
        "customer_id", "as_of_date", "score", "model_version", arm.alias("arm"), source=pl.lit("batch")
    ).cast(SCORED_SCHEMA)


def online_scored(prediction_log: pl.DataFrame) -> pl.DataFrame:
    """The service's scores of known customers, the last one per customer, day, version and arm.

    Shadow scores (``served`` false) count: measuring a model nobody sees is what shadowing is for.
    Requests by feature vector have no customer, hence no outcome. Logs written before arms existed
    hold champion scores only.
    """
    log = prediction_log.filter(pl.col("customer_id").is_not_null())
    if "arm" not in log.columns:
        log = log.with_columns(arm=pl.lit(CHAMPION_ROLE))
    return (
        log.sort("logged_at")
        .group_by("customer_id", "log_date", "model_version", "arm")
        .agg(pl.col("score").last())
        .select(
            "customer_id",
            pl.col("log_date").alias("as_of_date"),
            "score",
            "model_version",
            pl.col("arm").fill_null(CHAMPION_ROLE),
            source=pl.lit("online"),
        )
        .cast(SCORED_SCHEMA)
    )


def with_outcomes(scored: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """Scored rows plus the label: 1 if the customer bought in the seven days after the scoring day.

    ``events`` must cover D+1 .. D+7 of every scoring day D, as for the training label.
    """
    labels = build_label_purchase_next_7d(scored.select("customer_id", "as_of_date").unique(), events)
    return scored.join(labels, on=["customer_id", "as_of_date"], how="left")


def scored_on(lake: Lake, versions: list[str], through: dt.date) -> pl.DataFrame:
    """Every batch and online score of those model versions on scoring days up to ``through``."""
    parts = [pl.DataFrame(schema=SCORED_SCHEMA)]
    if lake.table_exists(BATCH_SCORES):
        batch = lake.scan_table(BATCH_SCORES).filter(
            pl.col("model_version").is_in(versions) & (pl.col("as_of_date") <= through)
        )
        parts.append(batch_scored(batch.collect()))
    if lake.table_exists(PREDICTION_LOG):
        log = lake.scan_table(PREDICTION_LOG).filter(
            pl.col("model_version").is_in(versions) & (pl.col("log_date") <= through)
        )
        parts.append(online_scored(log.collect()))
    return pl.concat(parts)


def outcome_events(lake: Lake, scoring_days: list[dt.date]) -> pl.DataFrame:
    """The purchases of the seven days after each scoring day, all ``with_outcomes`` needs."""
    horizon = {
        day + dt.timedelta(days=ahead) for day in scoring_days for ahead in range(1, LABEL_HORIZON_DAYS + 1)
    }
    return (
        lake.scan_table(FACT_EVENTS)
        .filter(pl.col("event_date").is_in(sorted(horizon)) & (pl.col("event_type") == "purchase"))
        .select("customer_id", "event_date", "event_type")
        .collect()
    )


def _metrics(labels: np.ndarray, scores: np.ndarray, resamples: int, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    roc_low, roc_high = bootstrap_interval(roc_auc_of, labels, scores, resamples, rng)
    brier_low, brier_high = bootstrap_interval(brier_of, labels, scores, resamples, rng)
    both_classes = 0 < labels.sum() < len(labels)
    # One class only (a quiet day, a small arm): ranking metrics are undefined, not zero.
    metrics = evaluate(labels, scores) if both_classes else {"brier": float(np.mean((scores - labels) ** 2))}
    calibration = calibration_table(labels, scores)
    return {
        "rows": len(labels),
        "positives": int(labels.sum()),
        "base_rate": float(labels.mean()),
        **{
            name: metrics.get(name)
            for name in ("roc_auc", "pr_auc", "brier", "precision_top10", "lift_top10")
        },
        "roc_auc_low": roc_low,
        "roc_auc_high": roc_high,
        "brier_low": brier_low,
        "brier_high": brier_high,
        "decile_mean_score": calibration["mean_score"].to_list(),
        "decile_observed_rate": calibration["observed_rate"].to_list(),
    }


def realised_performance(
    scored_with_outcomes: pl.DataFrame, resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> pl.DataFrame:
    """One row per scoring day, source, model version and arm (``PERFORMANCE_SCHEMA`` without the
    validation columns, which ``with_validation`` adds)."""
    rows = []
    for key, group in scored_with_outcomes.group_by(GROUP, maintain_order=True):
        labels = group[LABEL].to_numpy().astype(np.float64)
        metrics = _metrics(labels, group["score"].to_numpy(), resamples, seed)
        rows.append(dict(zip(GROUP, key, strict=True)) | metrics)
    schema = {name: dtype for name, dtype in PERFORMANCE_SCHEMA.items() if name not in VALIDATION_COLUMNS}
    return pl.DataFrame(rows, schema=schema).sort(GROUP)


def validation_outcomes(lake: Lake, registry: ModelRegistry, version: str) -> pl.DataFrame | None:
    """A version's stored validation scores with the labels of those rows; None for a version registered
    without validation keys."""
    scores = registry.validation_set(version)
    if "customer_id" not in scores.columns or not lake.table_exists(LABEL_PURCHASE_NEXT_7D):
        return None
    labels = lake.read_table(LABEL_PURCHASE_NEXT_7D, "as_of_date", set(scores["as_of_date"]))
    return scores.join(labels.select(*KEYS, LABEL), on=KEYS, how="inner")


def predicted_interval(validation: pl.DataFrame | None, customers: int, resamples: int) -> tuple:
    """The 95% range of ROC-AUC that validation predicts for a day of ``customers`` scored customers:
    bootstrap samples of that size drawn from the validation rows. A realised day outside it did worse
    (or better) than validation promised, beyond what chance explains."""
    if validation is None or validation.height == 0:
        return None, None
    labels, scores = validation[LABEL].to_numpy(), validation["score"].to_numpy()
    rng = np.random.default_rng(0)
    return bootstrap_interval(roc_auc_of, labels, scores, resamples, rng, size=customers)


PROMISE_SCHEMA = pl.Schema(
    {
        "model_version": pl.String,
        "rows": pl.Int64,
        **{name: pl.Float64 for name in VALIDATION_COLUMNS if name != "out_of_time"},
        "validation_end": pl.Date,
    }
)


def with_validation(
    performance: pl.DataFrame, lake: Lake, resamples: int = DEFAULT_RESAMPLES
) -> pl.DataFrame:
    """What each version's validation promised (its ROC-AUC, and the range predicted for a day of that
    many customers), and whether a day is after its validation window (earlier days were seen while
    training or choosing the model, so they flatter it)."""
    registry = ModelRegistry(lake)
    known = set(registry.versions())
    outcomes = {
        version: validation_outcomes(lake, registry, version)
        for version in set(performance["model_version"]) & known
    }
    promises = []
    for version, customers in performance.select("model_version", "rows").unique().iter_rows():
        if version in known:
            manifest = registry.manifest(version)
            low, high = predicted_interval(outcomes[version], customers, resamples)
            promises.append(
                (
                    version,
                    customers,
                    manifest.metrics.get("roc_auc"),
                    low,
                    high,
                    manifest.validation_window[1],
                )
            )
    promised = pl.DataFrame(promises, schema=PROMISE_SCHEMA, orient="row")
    return (
        performance.join(promised, on=["model_version", "rows"], how="left")
        .with_columns(out_of_time=pl.col("as_of_date") > pl.col("validation_end"))
        .select(list(PERFORMANCE_SCHEMA))
    )


def daily_roc_auc(performance: pl.DataFrame) -> pl.DataFrame:
    """Per version and scoring day, one realised ROC-AUC: of the batch scores (the whole population) when
    there are any, else of the online ones; with what validation promised for that day."""
    return (
        performance.filter(pl.col("roc_auc").is_not_null())
        .sort(pl.col("source") != "batch")
        .group_by("model_version", "as_of_date")
        .agg(pl.col("roc_auc", *VALIDATION_COLUMNS).first())
        .sort("model_version", "as_of_date")
    )


def realised_against_validation(performance: pl.DataFrame) -> pl.DataFrame:
    """Per version, over its days after the validation window: the mean realised ROC-AUC, the range
    validation predicted for such a day, and on how many days the realised figure fell inside it. Did
    the model do in the field what it promised?"""
    return (
        daily_roc_auc(performance.filter(pl.col("out_of_time")))
        .with_columns(
            inside=pl.col("roc_auc").is_between("validation_roc_auc_low", "validation_roc_auc_high")
        )
        .group_by("model_version")
        .agg(
            pl.len().alias("days"),
            pl.col("as_of_date").min().alias("first_day"),
            pl.col("as_of_date").max().alias("last_day"),
            pl.col("roc_auc").mean().alias("realised_roc_auc"),
            pl.col("validation_roc_auc").first(),
            pl.col("validation_roc_auc_low").mean(),
            pl.col("validation_roc_auc_high").mean(),
            pl.col("inside").sum().alias("days_inside"),
        )
        .with_columns(
            within_validation_interval=pl.col("realised_roc_auc").is_between(
                "validation_roc_auc_low", "validation_roc_auc_high"
            )
        )
        .sort("first_day")
    )
