"""Point-in-time customer features as of a date D, from Gold events dated D-27 .. D only.

``FEATURES`` is the one list of model features: the table, the model, the scoring service and the
drift report all take their column order from it.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

# Features as of D see exactly the event dates D-27 .. D.
FEATURE_LOOKBACK_DAYS = 28
WINDOWS = (1, 7, FEATURE_LOOKBACK_DAYS)
# A recency never observed inside the look-back window is reported as the first day outside it.
NOT_SEEN_DAYS = float(FEATURE_LOOKBACK_DAYS)

_EVENT_COUNTS = {
    "page_views": ("page_view", "page views"),
    "product_views": ("product_view", "product detail views"),
    "searches": ("search", "searches"),
    "add_to_carts": ("add_to_cart", "add-to-cart events"),
    "remove_from_carts": ("remove_from_cart", "remove-from-cart events"),
    "checkouts": ("begin_checkout", "checkouts begun"),
    "purchases": ("purchase", "purchase events (order lines)"),
}
_WINDOW_STEMS = {
    "sessions": "distinct sessions",
    **{stem: description for stem, (_, description) in _EVENT_COUNTS.items()},
    "orders": "distinct orders",
    "revenue": "purchase revenue",
    "distinct_products": "distinct products interacted with",
    "distinct_categories": "distinct categories interacted with",
}
_OTHER_FEATURES = {
    "active_days_28d": "days with any event in the last 28 days",
    "days_since_last_visit": "days since the last event (28 = not in the last 28 days)",
    "days_since_last_cart": "days since the last add-to-cart (28 = not in the last 28 days)",
    "days_since_last_purchase": "days since the last purchase (28 = not in the last 28 days)",
    "tenure_days": "days since first seen within the 28-day look-back",
    "cart_to_view_28d": "add-to-carts per product view, last 28 days (0 without views)",
    "purchase_to_cart_28d": "purchase events per add-to-cart, last 28 days (0 without carts)",
    "cart_abandonment_28d": "share of sessions with an add-to-cart but no purchase, last 28 days",
    "avg_order_value_28d": "revenue per order, last 28 days (0 without orders)",
    "app_share_28d": "share of events from the app channel, last 28 days",
}


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    description: str


FEATURES: list[FeatureSpec] = [
    *(
        FeatureSpec(f"{stem}_{days}d", f"{description}, last {days} day{'s' if days > 1 else ''}")
        for days in WINDOWS
        for stem, description in _WINDOW_STEMS.items()
    ),
    *(FeatureSpec(name, description) for name, description in _OTHER_FEATURES.items()),
]
FEATURE_NAMES: list[str] = [feature.name for feature in FEATURES]
FEATURES_SCHEMA = {
    "customer_id": pl.String,
    "as_of_date": pl.Date,
    **dict.fromkeys(FEATURE_NAMES, pl.Float64),
}
_RECENCY = ("days_since_last_visit", "days_since_last_cart", "days_since_last_purchase")


def no_activity_features() -> dict[str, float]:
    """The feature vector of a customer with no event in the look-back window (cold start)."""
    return {name: NOT_SEEN_DAYS if name in _RECENCY else 0.0 for name in FEATURE_NAMES}


def _is(event_type: str) -> pl.Expr:
    return pl.col("event_type") == event_type


def _window_aggregates(days: int) -> list[pl.Expr]:
    inside = pl.col("days_ago") < days
    counts = [
        (inside & _is(event_type)).sum().alias(f"{stem}_{days}d")
        for stem, (event_type, _) in _EVENT_COUNTS.items()
    ]
    return [
        pl.col("session_id").filter(inside).n_unique().alias(f"sessions_{days}d"),
        *counts,
        pl.col("order_id").filter(inside & _is("purchase")).drop_nulls().n_unique().alias(f"orders_{days}d"),
        pl.col("revenue").filter(inside).sum().alias(f"revenue_{days}d"),
        pl.col("product_id").filter(inside).drop_nulls().n_unique().alias(f"distinct_products_{days}d"),
        pl.col("category").filter(inside).drop_nulls().n_unique().alias(f"distinct_categories_{days}d"),
    ]


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator) / pl.col(denominator)).otherwise(0.0)


def _abandonment(window: pl.DataFrame) -> pl.DataFrame:
    sessions = window.group_by("customer_id", "session_id").agg(
        _is("add_to_cart").any().alias("carted"), _is("purchase").any().alias("bought")
    )
    return sessions.group_by("customer_id").agg(
        ((pl.col("carted") & ~pl.col("bought")).sum() / pl.col("carted").sum().clip(lower_bound=1)).alias(
            "cart_abandonment_28d"
        )
    )


def features_as_of(events: pl.DataFrame, as_of: dt.date) -> pl.DataFrame:
    """One row per known customer with any event in D-27 .. D; events outside that window are ignored."""
    first_day = as_of - dt.timedelta(days=FEATURE_LOOKBACK_DAYS - 1)
    window = events.filter(
        pl.col("customer_id").is_not_null() & pl.col("event_date").is_between(first_day, as_of)
    ).with_columns(days_ago=(pl.lit(as_of) - pl.col("event_date")).dt.total_days())
    last_seen = {
        "days_since_last_visit": pl.col("days_ago"),
        "days_since_last_cart": pl.col("days_ago").filter(_is("add_to_cart")),
        "days_since_last_purchase": pl.col("days_ago").filter(_is("purchase")),
    }
    aggregated = window.group_by("customer_id").agg(
        *(expr for days in WINDOWS for expr in _window_aggregates(days)),
        pl.col("event_date").n_unique().alias("active_days_28d"),
        *(expr.min().fill_null(NOT_SEEN_DAYS).alias(name) for name, expr in last_seen.items()),
        pl.col("days_ago").max().alias("tenure_days"),
        (pl.col("channel") == "app").sum().alias("app_events"),
        pl.col("channel").is_not_null().sum().alias("channel_events"),
    )
    return (
        aggregated.join(_abandonment(window), on="customer_id", how="left")
        .with_columns(
            cart_to_view_28d=_ratio("add_to_carts_28d", "product_views_28d"),
            purchase_to_cart_28d=_ratio("purchases_28d", "add_to_carts_28d"),
            avg_order_value_28d=_ratio("revenue_28d", "orders_28d"),
            app_share_28d=_ratio("app_events", "channel_events"),
            as_of_date=pl.lit(as_of),
        )
        .select("customer_id", "as_of_date", *(pl.col(name).cast(pl.Float64) for name in FEATURE_NAMES))
        .sort("customer_id")
    )


def build_customer_daily_features(events: pl.DataFrame, as_of_dates: Sequence[dt.date]) -> pl.DataFrame:
    """Features for each as-of date from its own 28-day window (a ranged run covers several dates)."""
    frames = [features_as_of(events, as_of) for as_of in sorted(as_of_dates)]
    return pl.concat(frames) if frames else pl.DataFrame(schema=FEATURES_SCHEMA)
