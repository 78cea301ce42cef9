"""Checks on ``silver/events``, evaluated on the frame the asset writes (no second read of the table)."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl

from ecom_assets.defs.tables import asset_key
from ecom_assets.events.schema import EVENT_TYPES
from ecom_assets.keys import SILVER_EVENTS
from ecom_assets.transforms.silver import SilverResult

_KEYS = ("event_id", "event_type", "event_ts", "event_date", "session_id", "anonymous_id")

SILVER_EVENT_CHECKS = [
    dg.AssetCheckSpec(name, asset=asset_key(SILVER_EVENTS), blocking=True, description=description)
    for name, description in [
        ("event_id_unique", "No event_id appears twice: dedup turned at-least-once into exactly-once."),
        ("keys_not_null", "Every row has its keys: " + ", ".join(_KEYS) + "."),
        ("event_ts_inside_partition", "Each event's UTC timestamp falls on its partition's date."),
        ("event_type_allowed", "Only the event types of the contract."),
        ("price_not_negative", "No negative unit price."),
        (
            "reject_rate_below_threshold",
            "Rejected lines stay under the configured share of Bronze lines read.",
        ),
    ]
]


def _result(name: str, failures: int, **metadata) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=name,
        asset_key=asset_key(SILVER_EVENTS),
        passed=failures == 0,
        metadata={"failures": failures, **metadata},
    )


def evaluate_silver_checks(
    result: SilverResult, event_dates: list[dt.date], max_reject_rate: float
) -> Iterator[dg.AssetCheckResult]:
    events = result.events
    yield _result("event_id_unique", events.height - events["event_id"].n_unique())
    nulls = events.select(pl.col(_KEYS).null_count()).row(0, named=True)
    yield _result("keys_not_null", sum(nulls.values()), null_counts=dg.MetadataValue.json(nulls))
    outside = (pl.col("event_ts").dt.date() != pl.col("event_date")) | ~pl.col("event_date").is_in(
        event_dates
    )
    yield _result("event_ts_inside_partition", events.filter(outside).height)
    yield _result("event_type_allowed", events.filter(~pl.col("event_type").is_in(EVENT_TYPES)).height)
    yield _result("price_not_negative", events.filter(pl.col("price") < 0).height)
    reject_rate = result.rejected.height / max(result.lines_read, 1)
    yield dg.AssetCheckResult(
        check_name="reject_rate_below_threshold",
        asset_key=asset_key(SILVER_EVENTS),
        passed=reject_rate <= max_reject_rate,
        metadata={"reject_rate": reject_rate, "threshold": max_reject_rate, "lines_read": result.lines_read},
    )
