"""Silver: typed, deduplicated, session-aligned events by event date, and each rejected line with a reason.

Both assets read Bronze an arrival day at a time and write as they go, so a run over many days holds a
few days of lines in memory, not the run's.
"""

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

import dagster as dg
import polars as pl

from ecom_assets.defs import engine
from ecom_assets.defs.medallion.parses import bronze_fingerprints, parsed_in_order, rejected_in_order
from ecom_assets.defs.medallion.silver_checks import SILVER_EVENT_CHECKS, evaluate_silver_checks
from ecom_assets.defs.metadata import markdown_table
from ecom_assets.defs.partitions import late_arrivals, partition_dates
from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import TableStream, asset_key, daily_table
from ecom_assets.events.schema import REJECTED_SCHEMA, SILVER_SCHEMA
from ecom_assets.keys import BRONZE_EVENTS, SILVER_EVENTS, SILVER_EVENTS_REJECTED
from ecom_assets.settings import get_settings
from ecom_assets.transforms.silver import UNREADABLE_FILE, ArrivalDays, arrival_days_of, silver_of_date
from ecom_assets.transforms.silver_quality import SilverTally
from ecom_assets.transforms.threads import map_ahead


def _silver_by_date(dates: list[dt.date], arrival_days: ArrivalDays, tally: SilverTally) -> TableStream:
    def by_date() -> Iterator[pl.DataFrame]:
        # Windows are taken in date order (ArrivalDays lets go of the days no later date needs); the dates'
        # dedup and back-fill run a few at once.
        windows = ((arrival_days.window_events(date), date) for date in dates)
        for day in map_ahead(lambda window: silver_of_date(*window), windows):
            tally.add(day.events, day.duplicates)
            yield day.events

    def figures() -> dict:
        return {
            "bronze_lines_read": arrival_days.lines_read,
            "valid_events_for_partitions": tally.rows + tally.duplicates,
            "duplicates_dropped": tally.duplicates,
            "rejected_lines_in_window": arrival_days.rejected,
            "customer_id_backfilled": tally.customer_id_backfilled,
            "events_by_type": dg.MetadataValue.json(dict(tally.events_by_type.most_common())),
        }

    return TableStream(by_date(), SILVER_SCHEMA, figures)


@dg.asset(
    key=asset_key(SILVER_EVENTS),
    ins={"bronze": engine.table_in(BRONZE_EVENTS, lazy=True, partition_mapping=late_arrivals)},
    group_name="silver",
    check_specs=SILVER_EVENT_CHECKS,
    **daily_table("event_date", SILVER_SCHEMA),
)
def silver_events(
    context: dg.AssetExecutionContext,
    lake_resource: LakeResource,
    bronze: engine.TableInput,
    spark: engine.SparkParam,
):
    """Contract-typed events by UTC event date, deduplicated on event_id, customer back-filled per session.

    Date D reads the Bronze arrival days D-1 .. D+late window: late events land on their true date, and a
    session that crosses midnight keeps the customer its login names.
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
        late = settings.late_window_days
        arrival_dates = arrival_days_of(dates, late)
        parsed = parsed_in_order(bronze, bronze_fingerprints(lake_resource), arrival_dates, late)
        arrival_days = ArrivalDays(arrival_dates, parsed, late)
        tally = SilverTally(dates)
        yield dg.Output(_silver_by_date(dates, arrival_days, tally))
        figures = tally.figures(rejected=arrival_days.rejected, lines_read=arrival_days.lines_read)
    yield from evaluate_silver_checks(figures, settings.max_reject_rate)


@dg.asset(
    key=asset_key(SILVER_EVENTS_REJECTED),
    ins={"bronze": engine.table_in(BRONZE_EVENTS, lazy=True)},
    group_name="silver",
    **daily_table("arrival_date", REJECTED_SCHEMA),
)
def silver_events_rejected(
    context: dg.AssetExecutionContext,
    lake_resource: LakeResource,
    bronze: engine.TableInput,
    spark: engine.SparkParam,
) -> dg.Output:
    """Every Bronze line that broke the contract, by arrival date, with a machine-readable reason.

    Each day's parse is left for ``silver/events`` in the same process (``defs.medallion.parses``).
    """
    settings = get_settings()
    late_window_days = settings.late_window_days
    if engine.on_spark():
        from ecom_assets.transforms import silver_spark

        lines = engine.read_with_spark(spark, bronze)
        return engine.write_with_spark(
            context, spark, silver_spark.parse_bronze(lines, late_window_days).rejected
        )
    reasons = Counter[str]()
    lines_read: list[int] = []
    fingerprints = bronze_fingerprints(lake_resource)

    def by_arrival_date() -> Iterator[pl.DataFrame]:
        days = partition_dates(context)
        for rejected, lines in rejected_in_order(bronze, fingerprints, days, late_window_days):
            lines_read.append(lines)
            reasons.update(rejected["reason"].to_list())
            yield rejected

    def figures() -> dict:
        by_reason = pl.DataFrame(reasons.most_common(), schema=["reason", "len"], orient="row")
        return {
            "bronze_lines": sum(lines_read),
            "reject_rate": reasons.total() / max(sum(lines_read), 1),
            "unreadable_files": reasons[UNREADABLE_FILE],
            "rejects_by_reason": markdown_table(by_reason),
        }

    return dg.Output(TableStream(by_arrival_date(), REJECTED_SCHEMA, figures))
