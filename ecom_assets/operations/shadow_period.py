"""The shadow period of ``ecom demo``: the retrained candidate serves as challenger, champion and challenger
both score every day, and once seven days of outcomes have landed, ``monitoring/model_performance``
measures both and ``ml/champion`` weighs the paired evidence."""

import datetime as dt

import dagster as dg
import polars as pl
from rich.console import Console
from rich.table import Table

from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import CHAMPION, MODEL_PERFORMANCE, PROPENSITY_MODEL
from ecom_assets.ml.realised import realised_against_validation
from ecom_assets.operations.materialize import materialize_range
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.labels import LABEL_HORIZON_DAYS

NO_RETRAINING = f'not key:"{PROPENSITY_MODEL}" and not key:"{CHAMPION}"'


def measure_outcomes(start: dt.date, end: dt.date, instance: dg.DagsterInstance, console: Console) -> None:
    """Realised performance of the scoring days ``start`` .. ``end`` (their outcomes must have landed):
    the plan measures the days whose look-ahead the landed days complete."""
    horizon = dt.timedelta(days=LABEL_HORIZON_DAYS)
    materialize_range(
        start + horizon, end + horizon, f'key:"{MODEL_PERFORMANCE}"', instance=instance, console=console
    )


def run_shadow_period(start: dt.date, end: dt.date, instance: dg.DagsterInstance, console: Console) -> None:
    """Days ``start`` .. ``end`` land and are scored by both models; their outcomes are measured up to
    ``end`` - 7, as far as the look-ahead allows. Nothing retrains meanwhile."""
    materialize_range(start, end, NO_RETRAINING, instance=instance, console=console)


def weigh_evidence(day: dt.date, evidence_days: int, instance: dg.DagsterInstance, console: Console) -> None:
    """``ml/champion`` on its own: the challenger's paired evidence over the last ``evidence_days``."""
    (result,) = materialize_range(
        day,
        day,
        f'key:"{CHAMPION}"',
        instance=instance,
        console=console,
        op_config={"ml__champion": {"evidence_days": evidence_days}},
    )
    (event,) = [
        event for event in result.get_asset_materialization_events() if event.asset_key == asset_key(CHAMPION)
    ]
    metadata = event.materialization.metadata
    if "evidence" not in metadata:
        console.print("ml/champion: no challenger to weigh")
        return
    console.print(metadata["evidence_table"].value, highlight=False)
    console.print(f"ml/champion: {metadata['evidence_decision'].value}: {metadata['evidence'].value}")


def _interval(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f"{low:.3f} .. {high:.3f}"


def realised_table(lake: Lake, since: dt.date) -> Table:
    """Realised ROC-AUC per scoring day, version and arm, from ``since`` on (days after each version's
    validation window only)."""
    performance = lake.read_table(MODEL_PERFORMANCE).filter(
        (pl.col("as_of_date") >= since) & pl.col("out_of_time") & (pl.col("source") == "batch")
    )
    table = Table(
        "scored on",
        "model version",
        "arm",
        "customers",
        "ROC-AUC",
        "95% interval",
        "PR-AUC",
        "lift top 10%",
        title="monitoring/model_performance: realised, after each version's validation window",
    )
    for row in performance.sort("as_of_date", "arm").iter_rows(named=True):
        table.add_row(
            str(row["as_of_date"]),
            row["model_version"],
            row["arm"],
            f"{row['rows']:,}",
            f"{row['roc_auc']:.3f}",
            _interval(row["roc_auc_low"], row["roc_auc_high"]),
            f"{row['pr_auc']:.3f}",
            f"{row['lift_top10']:.2f}",
        )
    return table


def promise_kept_table(lake: Lake) -> tuple[Table, bool]:
    """Per version: mean realised ROC-AUC against the range its validation predicted for a day."""
    summary = realised_against_validation(lake.read_table(MODEL_PERFORMANCE))
    table = Table(
        "model version",
        "scored days",
        "realised ROC-AUC (mean)",
        "validation ROC-AUC",
        "predicted for a day (95%)",
        "days inside",
        "within",
        title="Realised against validated",
    )
    for row in summary.iter_rows(named=True):
        table.add_row(
            row["model_version"],
            f"{row['first_day']} .. {row['last_day']}",
            f"{row['realised_roc_auc']:.3f}",
            f"{row['validation_roc_auc']:.3f}",
            _interval(row["validation_roc_auc_low"], row["validation_roc_auc_high"]),
            f"{row['days_inside']} of {row['days']}",
            "yes" if row["within_validation_interval"] else "NO",
        )
    return table, summary.height > 0 and bool(summary["within_validation_interval"].all())
