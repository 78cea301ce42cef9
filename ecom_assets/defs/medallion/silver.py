"""Silver: typed, deduplicated, session-aligned events by event date, and each rejected line with a reason."""

import hashlib
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
from ecom_assets.transforms.silver import UNREADABLE_FILE, ParsedBronze, build_silver, parse_bronze
from ecom_assets.transforms.silver_quality import silver_figures


class ParseHandoff:
    """One parse of Bronze for both Silver assets when they run in one process (``ecom materialize``,
    a job run): the rejects of arrival days D..E+late and the events of D..E read the very same Bronze
    lines, so the second asset takes the first one's parse instead of decoding every line again.

    Keyed by a digest of the Bronze rows in order, so another frame never gets this one's parse; taken
    at most once, so it holds memory only between the two assets.
    """

    def __init__(self) -> None:
        self._digest: bytes | None = None
        self._parsed: ParsedBronze | None = None

    @staticmethod
    def digest(bronze: pl.DataFrame, late_window_days: int) -> bytes:
        row_hashes = bronze.hash_rows(seed=0).to_numpy().tobytes()
        return hashlib.blake2b(row_hashes + f"{bronze.height}/{late_window_days}".encode()).digest()

    def parse(self, bronze: pl.DataFrame, late_window_days: int) -> ParsedBronze:
        digest = self.digest(bronze, late_window_days)
        if digest == self._digest and self._parsed is not None:
            parsed, self._digest, self._parsed = self._parsed, None, None
            return parsed
        self._digest, self._parsed = digest, parse_bronze(bronze, late_window_days)
        return self._parsed


_handoff = ParseHandoff()


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
        parsed = _handoff.parse(bronze, settings.late_window_days)
        polars_result = build_silver(bronze, dates, settings.late_window_days, parsed)
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
    rejected = _handoff.parse(bronze, get_settings().late_window_days).rejected
    return dg.Output(
        rejected,
        metadata=table_metadata(
            rejected,
            bronze_lines=bronze.height,
            reject_rate=rejected.height / max(bronze.height, 1),
            unreadable_files=rejected.filter(pl.col("reason") == UNREADABLE_FILE).height,
            rejects_by_reason=markdown_table(rejected.group_by("reason").len().sort("len", descending=True)),
        ),
    )
