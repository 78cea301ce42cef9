"""Silver: typed, deduplicated, session-aligned events by event date, and each rejected line with a reason."""

from dataclasses import replace

import dagster as dg
import polars as pl

from ecom_assets.defs import engine
from ecom_assets.defs.medallion.silver_checks import SILVER_EVENT_CHECKS, evaluate_silver_checks
from ecom_assets.defs.metadata import counts_by, markdown_table, table_metadata
from ecom_assets.defs.partitions import late_arrivals, partition_dates
from ecom_assets.defs.tables import asset_key, daily_table
from ecom_assets.keys import BRONZE_EVENTS, SILVER_EVENTS, SILVER_EVENTS_REJECTED
from ecom_assets.settings import get_settings
from ecom_assets.transforms.silver import build_silver, parse_bronze
from ecom_assets.transforms.silver_quality import silver_figures


@dg.asset(
    key=asset_key(SILVER_EVENTS),
    ins={"bronze": engine.table_in(BRONZE_EVENTS, partition_mapping=late_arrivals)},
    group_name="silver",
    check_specs=SILVER_EVENT_CHECKS,
    **daily_table("event_date"),
)
def silver_events(context: dg.AssetExecutionContext, bronze: engine.TableInput, spark: engine.SparkParam):
    """Contract-typed events by UTC event date, deduplicated on event_id, customer back-filled per session.

    Partition D reads the Bronze arrival dates D .. D+late window, so late events land on their true date.
    """
    dates = partition_dates(context)
    settings = get_settings()
    if engine.on_spark():
        from ecom_assets.transforms import silver_quality_spark, silver_spark

        result = silver_spark.build_silver(
            engine.read_with_spark(spark, bronze), dates, settings.late_window_days
        )
        yield engine.write_with_spark(context, spark, result.events, duplicates_dropped=result.duplicates)
        written = replace(result, events=engine.written_with_spark(context, spark))
        figures = silver_quality_spark.silver_figures(written, dates)
    else:
        polars_result = build_silver(bronze, dates, settings.late_window_days)
        yield _silver_output(polars_result, bronze)
        figures = silver_figures(polars_result, dates)
    yield from evaluate_silver_checks(figures, settings.max_reject_rate)


def _silver_output(result, bronze: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    return dg.Output(
        result.events,
        metadata=table_metadata(
            result.events,
            bronze_lines_read=result.lines_read,
            bronze_arrival_dates=bronze["arrival_date"].n_unique(),
            valid_events_for_partitions=result.events.height + result.duplicates,
            duplicates_dropped=result.duplicates,
            rejected_lines_in_window=result.rejected.height,
            customer_id_backfilled=int(result.events["customer_id_backfilled"].sum()),
            events_by_type=dg.MetadataValue.json(counts_by(result.events, "event_type")),
        ),
    )


@dg.asset(
    key=asset_key(SILVER_EVENTS_REJECTED),
    ins={"bronze": engine.table_in(BRONZE_EVENTS)},
    group_name="silver",
    **daily_table("arrival_date"),
)
def silver_events_rejected(
    context: dg.AssetExecutionContext, bronze: engine.TableInput, spark: engine.SparkParam
) -> dg.Output:
    """Every Bronze line that broke the contract, by arrival date, with a machine-readable reason."""
    if engine.on_spark():
        from ecom_assets.transforms import silver_spark

        lines = engine.read_with_spark(spark, bronze)
        return engine.write_with_spark(
            context, spark, silver_spark.parse_bronze(lines, get_settings().late_window_days).rejected
        )
    rejected = parse_bronze(bronze, get_settings().late_window_days).rejected
    return dg.Output(
        rejected,
        metadata=table_metadata(
            rejected,
            bronze_lines=bronze.height,
            reject_rate=rejected.height / max(bronze.height, 1),
            rejects_by_reason=markdown_table(rejected.group_by("reason").len().sort("len", descending=True)),
        ),
    )
