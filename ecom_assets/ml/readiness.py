"""Whether the lake holds enough history for a step yet, and if not, why and what to do.

A young lake is a normal state, not an error: the model, batch scores and drift skip with these reasons
(in Dagster and in ``ecom materialize``) instead of failing.
"""

import datetime as dt

import polars as pl

from ecom_assets.keys import CHAMPION, FACT_EVENTS, LABEL_PURCHASE_NEXT_7D, PROPENSITY_MODEL
from ecom_assets.ml.dataset import labelled_dates
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.features import FEATURE_LOOKBACK_DAYS, WARM_UP_DAYS
from ecom_assets.transforms.labels import LABEL_HORIZON_DAYS

# A time split needs three training dates; fewer fall back to a customer split, but fewer than this
# many dates teach the model one or two days of behaviour at most.
MIN_LABELLED_DATES = 3


def event_span(lake: Lake) -> tuple[dt.date, dt.date] | None:
    """First and last event date in the lake, or None before any event landed."""
    if not lake.table_exists(FACT_EVENTS):
        return None
    first, last = (
        lake.scan_table(FACT_EVENTS)
        .select(pl.col("event_date").min().alias("first"), pl.col("event_date").max().alias("last"))
        .collect()
        .row(0)
    )
    return None if first is None else (first, last)


def training_dates(
    lake: Lake, count: int, last: dt.date | None = None, min_history_days: int = WARM_UP_DAYS
) -> tuple[list[dt.date], str | None]:
    """The latest ``count`` labelled as-of dates past the warm-up (warm-up days would teach the model, and
    the drift reference, what a young lake looks like rather than what customers do), and the reason to
    skip training when there are fewer than ``MIN_LABELLED_DATES``."""
    span = event_span(lake)
    needed_days = min_history_days + MIN_LABELLED_DATES + LABEL_HORIZON_DAYS
    if span is None:
        return [], f"no events in {FACT_EVENTS} yet; land at least {needed_days} days"
    first_event, last_event = span
    warm = first_event + dt.timedelta(days=min_history_days)
    labelled = labelled_dates(lake, last) if lake.table_exists(LABEL_PURCHASE_NEXT_7D) else []
    dates = [day for day in labelled if day >= warm][-count:]
    if len(dates) >= MIN_LABELLED_DATES:
        return dates, None
    missing_days = (first_event + dt.timedelta(days=needed_days - 1) - last_event).days
    todo = (
        f"land {missing_days} more day{'s' if missing_days > 1 else ''}"
        if missing_days > 0
        else f"materialise {LABEL_PURCHASE_NEXT_7D} for the as-of dates from {warm} on"
    )
    return dates, (
        f"{len(dates)} of the {MIN_LABELLED_DATES} labelled as-of dates it needs "
        f"(from {warm} on, after a {min_history_days}-day warm-up); {todo}"
    )


def complete_history_start(lake: Lake) -> dt.date | None:
    """The first as-of date whose whole look-back (all 90 days) lies in the lake; None before any event.

    Training starts earlier (after ``WARM_UP_DAYS``), but until then the 90-day features are still filling
    up day by day, so their drift would only measure the age of the lake.
    """
    span = event_span(lake)
    return None if span is None else span[0] + dt.timedelta(days=FEATURE_LOOKBACK_DAYS - 1)


def missing_champion(lake: Lake) -> str | None:
    """Why there is nothing to score with or measure drift against yet, or None once a champion serves."""
    if ModelRegistry(lake).champion_version() is not None:
        return None
    return f"no champion yet; materialise {PROPENSITY_MODEL} and {CHAMPION} once labels exist"
