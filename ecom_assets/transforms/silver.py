"""Bronze lines to Silver events: validate, apply the time-window rules, dedup, back-fill sessions."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

from ecom_assets.events.schema import (
    PRODUCT_EVENTS,
    QUANTITY_EVENTS,
    REJECTED_SCHEMA,
    SILVER_SCHEMA,
)
from ecom_assets.transforms.timestamps import utc_instants
from ecom_assets.transforms.validation import decode_column

LINEAGE = ("arrival_date", "source_file", "line_number")
# The reject reason of a landing file that could not be read at all (see transforms.bronze).
UNREADABLE_FILE = "unreadable_file"
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


@dataclass(frozen=True)
class ParsedBronze:
    events: pl.DataFrame
    rejected: pl.DataFrame

    @property
    def lines(self) -> int:
        """Bronze lines parsed: each is one event or one rejected line."""
        return self.events.height + self.rejected.height


def _rule_violations(late_window_days: int) -> list[tuple[pl.Expr, str, str]]:
    """Rules over decoded columns, in the order they are reported: (violated, reason, detail)."""
    product_event = pl.col("event_type").is_in(list(PRODUCT_EVENTS))
    earliest = pl.col("arrival_date") - pl.duration(days=late_window_days)
    return [
        (~pl.col("event_id").str.contains(_UUID), "invalid_value", "event_id"),
        (pl.col("event_ts").is_null(), "invalid_timestamp", "event_ts"),
        (~pl.col("currency").str.contains("^[A-Z]{3}$"), "invalid_value", "currency"),
        (product_event & pl.col("product_id").is_null(), "missing_required_field", "product_id"),
        (product_event & pl.col("price").is_null(), "missing_required_field", "price"),
        (
            (pl.col("event_type") == "purchase") & pl.col("order_id").is_null(),
            "missing_required_field",
            "order_id",
        ),
        (pl.col("event_date") > pl.col("arrival_date"), "event_after_arrival", "event_ts"),
        (pl.col("event_date") < earliest, "late_beyond_window", "event_ts"),
    ]


def _typed(decoded: pl.DataFrame) -> pl.DataFrame:
    default_quantity = pl.when(pl.col("event_type").is_in(list(QUANTITY_EVENTS))).then(pl.lit(1, pl.Int32))
    return decoded.with_columns(
        event_ts=utc_instants(decoded["event_ts"]),
        quantity=pl.coalesce("quantity", default_quantity),
        currency=pl.col("currency").fill_null("EUR"),
        **{name: pl.col(name).replace("", None) for name in ("customer_id", "product_id", "order_id")},
    ).with_columns(event_date=pl.col("event_ts").dt.date())


def _with_first_violation(typed: pl.DataFrame, late_window_days: int) -> pl.DataFrame:
    """``reason`` and ``reason_detail`` of the first rule each row breaks (null for a valid row)."""
    rules = _rule_violations(late_window_days)
    numbers = list(range(len(rules)))
    first = pl.coalesce(
        *[pl.when(broken.fill_null(False)).then(pl.lit(n, pl.UInt8)) for n, (broken, *_) in enumerate(rules)]
    )
    return (
        typed.with_columns(_rule=first)
        .with_columns(
            reason=pl.col("_rule").replace_strict(numbers, [r for _, r, _ in rules], default=None),
            reason_detail=pl.col("_rule").replace_strict(numbers, [d for *_, d in rules], default=None),
        )
        .drop("_rule")
    )


def parse_bronze(bronze: pl.DataFrame, late_window_days: int) -> ParsedBronze:
    """Every Bronze line becomes exactly one typed event or one rejected row with its reason.

    An event must fall inside its arrival window (event date from arrival date minus the late window
    to the arrival date), so each valid line belongs to exactly one Silver partition.
    """
    lines = bronze.with_row_index("_line")
    readable = lines.filter(pl.col("read_error").is_null())
    decoded = decode_column(readable["raw"])
    lineage = readable.select("_line", *LINEAGE)[decoded.indices]
    decoded_lines = pl.concat([decoded.values, lineage], how="horizontal")
    typed = _with_first_violation(_typed(decoded_lines), late_window_days)
    failed = pl.DataFrame(
        decoded.failures,
        schema={"_index": pl.UInt32, "reason": pl.String, "reason_detail": pl.String},
        orient="row",
    )
    undecodable = failed.select(
        _line=readable["_line"].gather(failed["_index"]), reason="reason", reason_detail="reason_detail"
    )
    unreadable = lines.filter(pl.col("read_error").is_not_null()).select(
        "_line", reason=pl.lit(UNREADABLE_FILE), reason_detail="read_error"
    )
    undecodable = pl.concat([undecodable, unreadable]).with_columns(event_id=pl.lit(None, pl.String))
    broken_rules = typed.filter(pl.col("reason").is_not_null()).select(
        "_line", "reason", "reason_detail", "event_id"
    )
    # In landing order whatever order the lines came in (Bronze's frames or its files read back).
    rejected = pl.concat([undecodable, broken_rules]).join(lines, on="_line").sort(*LINEAGE)
    return ParsedBronze(
        events=typed.filter(pl.col("reason").is_null()).drop("_line", "reason", "reason_detail"),
        rejected=rejected.select(REJECTED_SCHEMA.names()),
    )


def deduplicate(events: pl.DataFrame) -> pl.DataFrame:
    """Keep the first delivery of each ``event_id`` in arrival order (at-least-once to exactly-once).

    Only the rows whose id repeats are sorted: most ids come once. Row order is not kept.
    """
    repeated = pl.col("event_id").is_duplicated()
    first_deliveries = events.filter(repeated).sort(*LINEAGE).unique("event_id", keep="first")
    return pl.concat([events.filter(~repeated), first_deliveries])


def backfill_customers(events: pl.DataFrame) -> pl.DataFrame:
    """Give every event of a session the customer known in it: forward after a login, backward before it.

    Only a session with both known and unknown events has anything to fill; the others (most of them)
    skip the ordered window. Row order is not kept.
    """
    order = ["event_ts", "event_id"]
    unknown = pl.col("customer_id").null_count().over("session_id")
    events = events.with_columns(_mixed=(unknown > 0) & (unknown < pl.len().over("session_id")))
    filled = pl.col("customer_id").forward_fill().backward_fill().over("session_id", order_by=order)
    mixed = events.filter("_mixed").with_columns(
        customer_id=filled,
        customer_id_backfilled=pl.col("customer_id").is_null() & filled.is_not_null(),
    )
    settled = events.filter(~pl.col("_mixed")).with_columns(customer_id_backfilled=pl.lit(False))
    return pl.concat([settled, mixed]).drop("_mixed")


# A session that crosses midnight: the login that names its later events may have arrived the day before.
SESSION_SPAN_DAYS = 1


def arrival_window(event_date: dt.date, late_window_days: int) -> list[dt.date]:
    """The arrival days whose lines hold the events of ``event_date`` and of the sessions crossing into it.

    Every date has the same window whatever run builds it, so a range run writes what daily runs would.
    """
    first = -SESSION_SPAN_DAYS
    return [event_date + dt.timedelta(days=offset) for offset in range(first, late_window_days + 1)]


@dataclass(frozen=True)
class SilverDay:
    events: pl.DataFrame
    duplicates: int


def silver_of_date(window_events: pl.DataFrame, event_date: dt.date) -> SilverDay:
    """The Silver events of one date from the parsed events of its arrival window.

    Dedup and back-fill see every event of the sessions that have events on the date, so a login that
    arrives later (or came just before midnight) still names the session's events.
    """
    on_date = pl.col("event_date") == event_date
    dated = window_events.filter(on_date)
    sessions = window_events.filter(pl.col("session_id").is_in(dated["session_id"].unique().implode()))
    unique = backfill_customers(deduplicate(sessions)).filter(on_date)
    events = unique.select(SILVER_SCHEMA.names()).sort("event_ts", "event_id")
    return SilverDay(events=events, duplicates=dated.height - events.height)


def arrival_days_of(event_dates: Iterable[dt.date], late_window_days: int) -> list[dt.date]:
    """Every arrival day the windows of ``event_dates`` read, oldest first."""
    return sorted({day for date in event_dates for day in arrival_window(date, late_window_days)})


class ArrivalDays:
    """Parsed Bronze arrival days for event dates taken in order: each day comes once from ``parsed``
    (the parses of ``arrival_days_of`` the dates, in that order) and is kept only while a later date's
    window still needs it, so memory holds a window, not a run."""

    def __init__(self, arrival_dates: list[dt.date], parsed: Iterable[ParsedBronze], late_window_days: int):
        self._coming = zip(arrival_dates, parsed, strict=True)
        self._late_window_days = late_window_days
        self._parsed: dict[dt.date, ParsedBronze] = {}
        self.lines_read = 0  # of every day parsed, each counted once
        self.rejected = 0

    def window_events(self, event_date: dt.date) -> pl.DataFrame:
        days = arrival_window(event_date, self._late_window_days)
        self._parsed = {day: parsed for day, parsed in self._parsed.items() if day >= days[0]}
        while days[-1] not in self._parsed:
            day, parsed = next(self._coming)
            self._parsed[day] = parsed
            self.lines_read += parsed.lines
            self.rejected += parsed.rejected.height
        return pl.concat([self._parsed[day].events for day in days])


@dataclass(frozen=True)
class SilverResult:
    events: pl.DataFrame
    lines_read: int
    rejected: pl.DataFrame
    duplicates: int


def build_silver(
    bronze: pl.DataFrame,
    event_dates: list[dt.date],
    late_window_days: int,
    parsed: ParsedBronze | None = None,
) -> SilverResult:
    """Silver events of ``event_dates`` from Bronze lines that cover their arrival windows, in one frame.

    ``parsed``: ``parse_bronze`` of these very lines, when the caller has it already.
    """
    parsed = parsed or parse_bronze(bronze, late_window_days)
    days = [
        silver_of_date(
            parsed.events.filter(pl.col("arrival_date").is_in(arrival_window(date, late_window_days))), date
        )
        for date in event_dates
    ]
    return SilverResult(
        events=pl.concat([day.events for day in days]) if days else SILVER_SCHEMA.to_frame(),
        lines_read=bronze.height,
        rejected=parsed.rejected,
        duplicates=sum(day.duplicates for day in days),
    )
