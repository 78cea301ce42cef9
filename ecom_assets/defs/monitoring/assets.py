"""Monitoring: daily drift of the features and predictions against the champion, and evidently's HTML view."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl
from pydantic import Field

from ecom_assets.defs.metadata import figure, markdown_table, table_metadata
from ecom_assets.defs.partitions import daily_partitions, partition_dates
from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import asset_key, daily_table
from ecom_assets.keys import BATCH_SCORES, CHAMPION, CUSTOMER_DAILY_FEATURES, DRIFT_REPORT, PREDICTION_LOG
from ecom_assets.ml.drift import DriftReference, NoChampionError, drift_of_day, report_path
from ecom_assets.ml.evidently_report import drift_report_html
from ecom_assets.ml.psi import DEFAULT_BINS, PsiThresholds, worst_status
from ecom_assets.ml.readiness import complete_history_start
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.settings import get_settings
from ecom_assets.storage.lake import Lake

PSI_TABLE_ROWS = 60
SHOWN_COLUMNS = ["kind", "name", "psi", "status"]


class DriftReportConfig(dg.Config):
    psi_warn: float | None = Field(None, description="PSI 'warn' threshold; default ECOM_PSI_WARN (0.1)")
    psi_alert: float | None = Field(None, description="PSI 'alert' threshold; default ECOM_PSI_ALERT (0.2)")
    bins: int = Field(DEFAULT_BINS, ge=2, description="Quantile bins of the reference")

    def thresholds(self) -> PsiThresholds:
        settings = get_settings()
        return PsiThresholds(
            warn=settings.psi_warn if self.psi_warn is None else self.psi_warn,
            alert=settings.psi_alert if self.psi_alert is None else self.psi_alert,
        )


def _online_scores(lake: Lake, dates: list[dt.date]) -> pl.DataFrame | None:
    """The scoring service's log of those days, when the service has logged anything yet."""
    if not lake.table_exists(PREDICTION_LOG):
        return None
    return lake.read_table(PREDICTION_LOG, "log_date", dates)


def _drift_metadata(lake: Lake, drift: pl.DataFrame, model_version: str) -> dict:
    by_date = drift.group_by("as_of_date").agg(pl.col("status")).sort("as_of_date")
    status_by_date = {day.isoformat(): worst_status(statuses) for day, statuses in by_date.iter_rows()}
    last = max(drift["as_of_date"])
    shown = drift.sort("psi", descending=True).with_columns(pl.col("psi").round(4))
    columns = SHOWN_COLUMNS if len(status_by_date) == 1 else ["as_of_date", *SHOWN_COLUMNS]
    return table_metadata(
        drift,
        status=worst_status(status_by_date.values()),
        status_by_date=dg.MetadataValue.json(status_by_date),
        max_psi=dg.MetadataValue.float(figure(drift, pl.col("psi").max())),
        alerts=", ".join(drift.filter(pl.col("status") == "alert")["name"].unique(maintain_order=True))
        or "none",
        psi_table=markdown_table(shown.select(columns), max_rows=PSI_TABLE_ROWS),
        report_html=dg.MetadataValue.path(f"{lake.uri}/{report_path(last)}"),
        model_version=model_version,
    )


# Written by the scoring service, not by Dagster: declared so lineage shows where online drift comes from.
prediction_log = dg.AssetSpec(
    key=asset_key(PREDICTION_LOG),
    description="Every online score of the scoring service (serving/), appended by log date.",
    group_name="monitoring",
    kinds={"delta", "fastapi"},
    partitions_def=daily_partitions,
    metadata={"partition_expr": "log_date"},
)


@dg.asset(
    key=asset_key(DRIFT_REPORT),
    ins={
        "features": dg.AssetIn(asset_key(CUSTOMER_DAILY_FEATURES)),
        "batch_scores": dg.AssetIn(asset_key(BATCH_SCORES)),
    },
    # The log is read directly: days on which the service scored nothing have no rows, which is no error.
    deps=[asset_key(CHAMPION), asset_key(PREDICTION_LOG)],
    group_name="monitoring",
    # Without a champion there is no reference to compare with: skipped with the reason, not failed.
    output_required=False,
    **daily_table("as_of_date"),
)
def drift_report(
    context: dg.AssetExecutionContext,
    config: DriftReportConfig,
    features: pl.DataFrame,
    batch_scores: pl.DataFrame,
    lake_resource: LakeResource,
) -> Iterator[dg.Output[pl.DataFrame]]:
    """PSI of every model feature and of the batch and online scores of D against the champion's own
    reference, with status ok / warn / alert and evidently's HTML report in the lake (for the last day of
    a ranged run). Dates whose look-back is incomplete, or that predate the champion's training data, get
    status insufficient_history."""
    lake = lake_resource.get_lake()
    try:
        reference = DriftReference.of_champion(ModelRegistry(lake), config.bins)
    except NoChampionError as error:
        context.log.warning(f"{DRIFT_REPORT}: skipped, {error}")
        return
    thresholds = config.thresholds()
    history_start = complete_history_start(lake)
    dates = partition_dates(context)
    online = _online_scores(lake, dates)
    drift = pl.concat(
        drift_of_day(
            reference,
            as_of,
            features.filter(pl.col("as_of_date") == as_of),
            batch_scores.filter(pl.col("as_of_date") == as_of),
            None if online is None else online.filter(pl.col("log_date") == as_of),
            thresholds,
            history_start,
        )
        for as_of in dates
    )
    # The HTML page takes seconds per day, so a backfill draws only its last day; daily runs draw every day.
    last = dates[-1]
    html = drift_report_html(reference.features, features.filter(pl.col("as_of_date") == last), thresholds)
    lake.write_bytes(report_path(last), html)
    context.log.info(
        f"drift against champion {reference.model_version}: max PSI {figure(drift, pl.col('psi').max()):.3f}"
    )
    yield dg.Output(drift, metadata=_drift_metadata(lake, drift, reference.model_version))
