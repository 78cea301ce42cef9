"""Checks on ``silver/events``, judged on the figures either engine counts on the frame the asset writes."""

from collections.abc import Iterator

import dagster as dg

from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import SILVER_EVENTS
from ecom_assets.transforms.silver_quality import KEYS, SilverFigures

SILVER_EVENT_CHECKS = [
    dg.AssetCheckSpec(name, asset=asset_key(SILVER_EVENTS), blocking=True, description=description)
    for name, description in [
        ("event_id_unique", "No event_id appears twice: dedup turned at-least-once into exactly-once."),
        ("keys_not_null", "Every row has its keys: " + ", ".join(KEYS) + "."),
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


def evaluate_silver_checks(figures: SilverFigures, max_reject_rate: float) -> Iterator[dg.AssetCheckResult]:
    yield _result("event_id_unique", figures.duplicate_ids)
    nulls = figures.null_counts
    yield _result("keys_not_null", sum(nulls.values()), null_counts=dg.MetadataValue.json(nulls))
    yield _result("event_ts_inside_partition", figures.outside_partition)
    yield _result("event_type_allowed", figures.unknown_event_types)
    yield _result("price_not_negative", figures.negative_prices)
    reject_rate = figures.rejected / max(figures.lines_read, 1)
    yield dg.AssetCheckResult(
        check_name="reject_rate_below_threshold",
        asset_key=asset_key(SILVER_EVENTS),
        passed=reject_rate <= max_reject_rate,
        metadata={"reject_rate": reject_rate, "threshold": max_reject_rate, "lines_read": figures.lines_read},
    )
