"""Point-in-time customer features as of a date D, from the daily activity aggregate dated D-89 .. D only
(plus the first-seen and first-order dates of ``gold/dim_customer`` where they fall on or before D).

``FEATURES`` is the one list of model features: the table, the model, the scoring service and the
drift report all take their column order from it.
"""

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import polars as pl

from ecom_assets.transforms.activity import EVENT_COUNTS, build_customer_daily_activity
from ecom_assets.transforms.gold import build_dim_customer

# Features as of D see exactly the activity dates D-89 .. D; the short windows sit inside it.
FEATURE_LOOKBACK_DAYS = 90
WINDOWS = (1, 7, 28)
# From this many days after the first event on, the 1/7/28-day windows are complete: training and drift
# start there (the 90-day window is still filling, in training and serving alike).
WARM_UP_DAYS = WINDOWS[-1] - 1
LONG_WINDOW = f"{FEATURE_LOOKBACK_DAYS}d"
# A recency or gap never observed inside the look-back is reported as the first day outside it.
NOT_SEEN_DAYS = float(FEATURE_LOOKBACK_DAYS)

_WINDOW_STEMS = {
    "sessions": "distinct sessions",
    "page_views": "page views",
    "product_views": "product detail views",
    "searches": "searches",
    "add_to_carts": "add-to-cart events",
    "remove_from_carts": "remove-from-cart events",
    "checkouts": "checkouts begun",
    "purchases": "purchase events (order lines)",
    "orders": "distinct orders",
    "revenue": "purchase revenue",
    "distinct_products": "distinct products interacted with",
    "distinct_categories": "distinct categories interacted with",
}
_OTHER_FEATURES = {
    "active_days_28d": "days with any event in the last 28 days",
    "days_since_last_visit": "days since the last event (90 = not in the last 90 days)",
    "days_since_last_cart": "days since the last add-to-cart (90 = not in the last 90 days)",
    "days_since_last_purchase": "days since the last purchase (90 = not in the last 90 days)",
    "tenure_days": "days since the customer was first seen, up to D (90 = 90 or more)",
    "cart_to_view_28d": "add-to-carts per product view, last 28 days (0 without views)",
    "purchase_to_cart_28d": "purchase events per add-to-cart, last 28 days (0 without carts)",
    "cart_abandonment_28d": "share of sessions with an add-to-cart but no purchase, last 28 days",
    "avg_order_value_28d": "revenue per order, last 28 days (0 without orders)",
    "app_share_28d": "share of events from the app channel, last 28 days",
    f"orders_{LONG_WINDOW}": "distinct orders, last 90 days",
    f"revenue_{LONG_WINDOW}": "purchase revenue, last 90 days",
    f"active_weeks_{LONG_WINDOW}": "weeks (counted back from D) with any event, last 90 days",
    f"order_days_{LONG_WINDOW}": "days with an order, last 90 days",
    f"order_gap_mean_{LONG_WINDOW}": "mean days between order days, last 90 days (90 with fewer than 2)",
    f"order_gap_std_{LONG_WINDOW}": "std of the days between order days, last 90 days (0 if unknown)",
    "order_gap_elapsed": "days since the last order over the customer's own mean gap (1 = an order is due)",
    "days_since_first_order": "days since the first order ever seen, up to D (0 = none yet, 90 = 90 or more)",
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
_NOT_SEEN = ("days_since_last_visit", "days_since_last_cart", "days_since_last_purchase")
FIRST_DATES_SCHEMA = pl.Schema(
    {"customer_id": pl.String, "first_seen_date": pl.Date, "first_order_date": pl.Date}
)


def first_dates(dim_customer: pl.DataFrame) -> pl.DataFrame:
    """Each customer's first-seen and first-order dates from ``gold/dim_customer``: their whole history in
    one row, so tenure needs no unbounded look-back (features keep only the dates on or before D)."""
    return dim_customer.select(
        "customer_id",
        first_seen_date=pl.col("first_seen_at").dt.date(),
        first_order_date=pl.col("first_order_at").dt.date(),
    ).cast(FIRST_DATES_SCHEMA)


def no_activity_features() -> dict[str, float]:
    """The feature vector of a customer with no event in the look-back window (cold start)."""
    not_seen = (*_NOT_SEEN, f"order_gap_mean_{LONG_WINDOW}")
    features = {name: NOT_SEEN_DAYS if name in not_seen else 0.0 for name in FEATURE_NAMES}
    # no order seen over the look-back is, by the prior gap of a whole look-back, exactly one gap ago
    return {**features, "order_gap_elapsed": 1.0}


def _distinct(column: str, inside: pl.Expr) -> pl.Expr:
    """Distinct values over the days of a window, from each day's list of distinct values."""
    return pl.col(column).filter(inside).list.explode(keep_nulls=False, empty_as_null=False).n_unique()


def _window_sums(days: int) -> list[pl.Expr]:
    inside = pl.col("days_ago") < days
    summed = ("sessions", *EVENT_COUNTS, "orders", "revenue")
    return [
        *(pl.col(name).filter(inside).sum().alias(f"{name}_{days}d") for name in summed),
        pl.col("products")
        .filter(inside)
        .list.explode(keep_nulls=False, empty_as_null=False)
        .n_unique()
        .alias(f"distinct_products_{days}d"),
        pl.col("categories")
        .filter(inside)
        .list.explode(keep_nulls=False, empty_as_null=False)
        .n_unique()
        .alias(f"distinct_categories_{days}d"),
    ]


def _order_timing() -> list[pl.Expr]:
    """Gaps between a customer's order days inside the look-back: their cadence, and how far into it D is."""
    order_days = pl.col("days_ago").filter(pl.col("orders") > 0)
    gaps = order_days.sort().diff()
    return [
        order_days.len().alias(f"order_days_{LONG_WINDOW}"),
        gaps.mean().fill_null(NOT_SEEN_DAYS).alias(f"order_gap_mean_{LONG_WINDOW}"),
        gaps.std(ddof=0).fill_null(0.0).alias(f"order_gap_std_{LONG_WINDOW}"),
    ]


def _in_28d(name: str) -> pl.Expr:
    return pl.col(name).filter(pl.col("days_ago") < 28).sum()


def _ratio(numerator: str, denominator: str) -> pl.Expr:
    return pl.when(pl.col(denominator) > 0).then(pl.col(numerator) / pl.col(denominator)).otherwise(0.0)


def _days_since(first: pl.Expr, as_of: dt.date, in_window: str) -> pl.Expr:
    """Days from a first date to D, counting only dates on or before D (a later one is not yet known).

    Capped at the look-back: an uncapped age grows with the lake itself, so its drift would say how old the
    lake is, not how customers changed.
    """
    known = pl.when(first <= as_of).then((pl.lit(as_of) - first).dt.total_days())
    return pl.max_horizontal(known, in_window).clip(upper_bound=NOT_SEEN_DAYS)


def features_as_of(activity: pl.DataFrame, as_of: dt.date, first_dates: pl.DataFrame) -> pl.DataFrame:
    """One row per known customer with any activity in D-89 .. D; activity outside it is ignored, and of
    ``first_dates`` only dates on or before D count."""
    first_day = as_of - dt.timedelta(days=FEATURE_LOOKBACK_DAYS - 1)
    window = activity.filter(pl.col("event_date").is_between(first_day, as_of)).with_columns(
        days_ago=(pl.lit(as_of) - pl.col("event_date")).dt.total_days()
    )
    last_seen = {
        "days_since_last_visit": pl.col("days_ago"),
        "days_since_last_cart": pl.col("days_ago").filter(pl.col("add_to_carts") > 0),
        "days_since_last_purchase": pl.col("days_ago").filter(pl.col("purchases") > 0),
    }
    aggregated = window.group_by("customer_id").agg(
        *(expr for days in WINDOWS for expr in _window_sums(days)),
        (pl.col("days_ago") < 28).sum().alias("active_days_28d"),
        *(expr.min().fill_null(NOT_SEEN_DAYS).alias(name) for name, expr in last_seen.items()),
        pl.col("days_ago").max().alias("seen_in_window"),
        pl.col("days_ago").filter(pl.col("orders") > 0).max().alias("ordered_in_window"),
        pl.col("orders").sum().alias(f"orders_{LONG_WINDOW}"),
        pl.col("revenue").sum().alias(f"revenue_{LONG_WINDOW}"),
        (pl.col("days_ago") // 7).n_unique().alias(f"active_weeks_{LONG_WINDOW}"),
        *_order_timing(),
        *(_in_28d(name).alias(f"{name}_28d") for name in ("carted_sessions", "abandoned_sessions")),
        *(_in_28d(name).alias(name) for name in ("app_events", "channel_events")),
    )
    gap = pl.col(f"order_gap_mean_{LONG_WINDOW}")
    return (
        aggregated.join(first_dates, on="customer_id", how="left")
        .with_columns(
            tenure_days=_days_since(pl.col("first_seen_date"), as_of, "seen_in_window"),
            days_since_first_order=_days_since(
                pl.col("first_order_date"), as_of, "ordered_in_window"
            ).fill_null(0),
            order_gap_elapsed=pl.col("days_since_last_purchase") / pl.when(gap > 0).then(gap).otherwise(1),
            cart_to_view_28d=_ratio("add_to_carts_28d", "product_views_28d"),
            purchase_to_cart_28d=_ratio("purchases_28d", "add_to_carts_28d"),
            cart_abandonment_28d=_ratio("abandoned_sessions_28d", "carted_sessions_28d"),
            avg_order_value_28d=_ratio("revenue_28d", "orders_28d"),
            app_share_28d=_ratio("app_events", "channel_events"),
            as_of_date=pl.lit(as_of),
        )
        .select("customer_id", "as_of_date", *(pl.col(name).cast(pl.Float64) for name in FEATURE_NAMES))
        .sort("customer_id")
    )


def features_by_date(
    activity: pl.DataFrame, as_of_dates: Sequence[dt.date], first_dates: pl.DataFrame | None = None
) -> Iterator[pl.DataFrame]:
    """Features for each as-of date in turn, each from its own 90-day window of
    ``gold/customer_daily_activity`` (a ranged run covers several dates from the one aggregate it loaded)."""
    first_dates = pl.DataFrame(schema=FIRST_DATES_SCHEMA) if first_dates is None else first_dates
    first_dates = first_dates.select(list(FIRST_DATES_SCHEMA)).cast(FIRST_DATES_SCHEMA)
    return (features_as_of(activity, as_of, first_dates) for as_of in sorted(as_of_dates))


def build_customer_daily_features(
    activity: pl.DataFrame, as_of_dates: Sequence[dt.date], first_dates: pl.DataFrame | None = None
) -> pl.DataFrame:
    """``features_by_date`` in one frame."""
    frames = list(features_by_date(activity, as_of_dates, first_dates))
    return pl.concat(frames) if frames else pl.DataFrame(schema=FEATURES_SCHEMA)


def features_from_facts(facts: pl.DataFrame, as_of_dates: Sequence[dt.date]) -> pl.DataFrame:
    """Features straight from Gold facts, through the same activity aggregate and customer dimension the
    assets build (for benches and tests; facts after an as-of date may be present and are ignored)."""
    return build_customer_daily_features(
        build_customer_daily_activity(facts), as_of_dates, first_dates(build_dim_customer(facts))
    )
