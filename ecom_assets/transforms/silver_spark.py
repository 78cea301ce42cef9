"""Bronze lines to Silver events on Spark: the same events, rejects and reasons as
:mod:`ecom_assets.transforms.silver`.

Each line is decoded against the contract by the same decoder as the polars engine (``decode_column``:
msgspec's rules, most lines by the compiled pass), in Arrow batches on the executors (``mapInArrow``): a
reject reason names the JSON text's first fault, which only msgspec reports identically. Everything
after decoding (timestamps, the rules of the contract, dedup, session back-fill) is Spark expressions.
"""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from ecom_assets.events.schema import (
    BRONZE_SCHEMA,
    PRODUCT_EVENTS,
    QUANTITY_EVENTS,
    REJECTED_SCHEMA,
    SILVER_SCHEMA,
)
from ecom_assets.storage.spark_tables import cast_to, spark_type
from ecom_assets.transforms.silver import _UUID, LINEAGE
from ecom_assets.transforms.timestamps import TIMESTAMP_PATTERN
from ecom_assets.transforms.validation import DECODED_SCHEMA, decode_column

_ARROW_TYPES: dict[type[pl.DataType], pa.DataType] = {
    pl.String: pa.string(),
    pl.Float64: pa.float64(),
    pl.Int32: pa.int32(),
}
_DECODE_FAULT = {"decode_reason": "string", "decode_detail": "string"}
_DECODED_DDL = ", ".join(
    [f"{name} {spark_type(dtype).simpleString()}" for name, dtype in BRONZE_SCHEMA.items()]
    + [f"decoded_{name} {spark_type(dtype).simpleString()}" for name, dtype in DECODED_SCHEMA.items()]
    + [f"{name} {ddl}" for name, ddl in _DECODE_FAULT.items()]
)


def _decode_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    decoded = decode_column(pl.Series("raw", batch.column("raw")))
    rows = pl.DataFrame({"_row": pl.int_range(batch.num_rows, eager=True, dtype=pl.Int64)})
    values = decoded.values.with_columns(_row=pl.Series(decoded.indices, dtype=pl.Int64))
    faults = pl.DataFrame(
        decoded.failures, schema={"_row": pl.Int64, **dict.fromkeys(_DECODE_FAULT, pl.String)}, orient="row"
    )
    aligned = rows.join(values, on="_row", how="left").join(faults, on="_row", how="left").sort("_row")
    columns = {name: batch.column(name) for name in BRONZE_SCHEMA.names()}
    for name, dtype in DECODED_SCHEMA.items():
        column = aligned[name].to_arrow(compat_level=pl.CompatLevel.oldest())
        columns[f"decoded_{name}"] = column.cast(_ARROW_TYPES[dtype.base_type()])
    for name in _DECODE_FAULT:
        columns[name] = aligned[name].to_arrow(compat_level=pl.CompatLevel.oldest()).cast(pa.string())
    return pa.RecordBatch.from_pydict(columns)


def _decode_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        yield _decode_batch(batch)


def _typed(decoded: DataFrame) -> DataFrame:
    fields = {name: F.col(f"decoded_{name}") for name in DECODED_SCHEMA.names()}
    raw_ts = fields["event_ts"]
    parsed_ts = F.try_to_timestamp(F.regexp_replace(raw_ts, "Z$", "+00:00"))
    default_quantity = F.when(fields["event_type"].isin(*QUANTITY_EVENTS), F.lit(1))
    typed = {
        **fields,
        "event_ts": F.when(raw_ts.rlike(TIMESTAMP_PATTERN), parsed_ts),
        "quantity": F.coalesce(fields["quantity"], default_quantity),
        "currency": F.coalesce(fields["currency"], F.lit("EUR")),
        **{name: F.nullif(fields[name], F.lit("")) for name in ("customer_id", "product_id", "order_id")},
    }
    lineage_and_faults = [*BRONZE_SCHEMA.names(), *_DECODE_FAULT]
    columns: list[Column | str] = [*lineage_and_faults, *(expr.alias(name) for name, expr in typed.items())]
    return decoded.select(*columns).withColumn("event_date", F.to_date("event_ts"))


def _rule_violations(late_window_days: int) -> list[tuple[Column, str, str]]:
    """The rules of ``silver._rule_violations`` in the same order: (violated, reason, detail)."""
    product_event = F.col("event_type").isin(*PRODUCT_EVENTS)
    earliest = F.date_sub(F.col("arrival_date"), late_window_days)
    return [
        (~F.col("event_id").rlike(_UUID), "invalid_value", "event_id"),
        (F.col("event_ts").isNull(), "invalid_timestamp", "event_ts"),
        (~F.col("currency").rlike("^[A-Z]{3}$"), "invalid_value", "currency"),
        (product_event & F.col("product_id").isNull(), "missing_required_field", "product_id"),
        (product_event & F.col("price").isNull(), "missing_required_field", "price"),
        (
            (F.col("event_type") == "purchase") & F.col("order_id").isNull(),
            "missing_required_field",
            "order_id",
        ),
        (F.col("event_date") > F.col("arrival_date"), "event_after_arrival", "event_ts"),
        (F.col("event_date") < earliest, "late_beyond_window", "event_ts"),
    ]


def _first_violation(late_window_days: int) -> tuple[Column, Column]:
    rules = _rule_violations(late_window_days)
    reason = F.coalesce(F.col("decode_reason"), *(F.when(b, F.lit(r)) for b, r, _ in rules))
    detail = F.coalesce(F.col("decode_detail"), *(F.when(b, F.lit(d)) for b, _, d in rules))
    return reason, detail


@dataclass(frozen=True)
class ParsedBronze:
    events: DataFrame
    rejected: DataFrame


def parse_bronze(bronze: DataFrame, late_window_days: int) -> ParsedBronze:
    """Every Bronze line becomes exactly one typed event or one rejected row with its reason."""
    decoded = bronze.select(*BRONZE_SCHEMA.names()).mapInArrow(_decode_batches, _DECODED_DDL)
    reason, detail = _first_violation(late_window_days)
    judged = _typed(decoded).withColumns({"reason": reason, "reason_detail": detail})
    return ParsedBronze(
        events=judged.where(F.col("reason").isNull()).drop("reason", "reason_detail", *_DECODE_FAULT),
        rejected=cast_to(judged.where(F.col("reason").isNotNull()), REJECTED_SCHEMA),
    )


def deduplicate(events: DataFrame) -> DataFrame:
    """Keep the first delivery of each ``event_id`` in arrival order (at-least-once to exactly-once)."""
    first_delivery = Window.partitionBy("event_id").orderBy(*LINEAGE)
    return (
        events.withColumn("_delivery", F.row_number().over(first_delivery))
        .where("_delivery = 1")
        .drop("_delivery")
    )


def backfill_customers(events: DataFrame) -> DataFrame:
    """Give every event of a session the customer known in it: forward after a login, backward before it."""
    session = Window.partitionBy("session_id").orderBy("event_ts", "event_id")
    before = session.rowsBetween(Window.unboundedPreceding, Window.currentRow)
    after = session.rowsBetween(Window.currentRow, Window.unboundedFollowing)
    known = F.col("customer_id")
    filled = F.coalesce(
        F.last(known, ignorenulls=True).over(before), F.first(known, ignorenulls=True).over(after)
    )
    return events.withColumns(
        {"customer_id": filled, "customer_id_backfilled": known.isNull() & filled.isNotNull()}
    )


@dataclass(frozen=True)
class SilverResult:
    events: DataFrame
    lines_read: int
    rejected: DataFrame
    duplicates: int


def build_silver(bronze: DataFrame, event_dates: list[dt.date], late_window_days: int) -> SilverResult:
    """Silver events of ``event_dates`` from the Bronze lines of their arrival window."""
    parsed = parse_bronze(bronze, late_window_days)
    in_dates = F.col("event_date").isin(event_dates)
    unique = backfill_customers(deduplicate(parsed.events))
    events = cast_to(unique.where(in_dates), SILVER_SCHEMA)
    valid_in_dates = parsed.events.where(in_dates).count()
    event_count = events.count()
    return SilverResult(
        events=events,
        lines_read=bronze.count(),
        rejected=parsed.rejected,
        duplicates=valid_in_dates - event_count,
    )
