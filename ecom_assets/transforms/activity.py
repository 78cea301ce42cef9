"""Gold facts to one row per customer per event date: the small aggregate every feature window is summed from.

A 90-day window over this table reads about one row per active customer-day instead of every event, so
long look-backs cost little more than short ones, and a range run holds its days of aggregate once.
"""

import polars as pl

# activity column -> the fact event type it counts
EVENT_COUNTS = {
    "page_views": "page_view",
    "product_views": "product_view",
    "searches": "search",
    "add_to_carts": "add_to_cart",
    "remove_from_carts": "remove_from_cart",
    "checkouts": "begin_checkout",
    "purchases": "purchase",
}
_COUNT_COLUMNS = ("sessions", *EVENT_COUNTS, "orders")
ACTIVITY_SCHEMA = pl.Schema(
    [
        ("customer_id", pl.String()),
        ("event_date", pl.Date()),
        *((name, pl.Int64()) for name in _COUNT_COLUMNS),
        ("revenue", pl.Float64()),
        # the day's distinct products and categories, so windows count distinct values, not product-days
        ("products", pl.List(pl.String)),
        ("categories", pl.List(pl.String)),
        *(
            (name, pl.Int64())
            for name in ("carted_sessions", "abandoned_sessions", "app_events", "channel_events")
        ),
    ]
)
DAY = ["customer_id", "event_date"]


def _is(event_type: str) -> pl.Expr:
    return pl.col("event_type") == event_type


def _sessions(known: pl.DataFrame) -> pl.DataFrame:
    """Sessions per day with an add-to-cart, and of those, without a purchase (cart abandonment)."""
    sessions = known.group_by(*DAY, "session_id").agg(
        _is("add_to_cart").any().alias("carted"), _is("purchase").any().alias("bought")
    )
    return sessions.group_by(DAY).agg(
        pl.col("carted").sum().alias("carted_sessions"),
        (pl.col("carted") & ~pl.col("bought")).sum().alias("abandoned_sessions"),
    )


def build_customer_daily_activity(facts: pl.DataFrame) -> pl.DataFrame:
    """One row per known customer and event date with any event: counts per event type, sessions, orders,
    revenue, distinct products and categories, carted/abandoned sessions and the channel mix."""
    known = facts.filter(pl.col("customer_id").is_not_null())
    daily = known.group_by(DAY).agg(
        pl.col("session_id").n_unique().alias("sessions"),
        *(_is(event_type).sum().alias(name) for name, event_type in EVENT_COUNTS.items()),
        pl.col("order_id").filter(_is("purchase")).drop_nulls().n_unique().alias("orders"),
        pl.col("revenue").sum().alias("revenue"),
        pl.col("product_id").drop_nulls().unique().sort().alias("products"),
        pl.col("category").drop_nulls().unique().sort().alias("categories"),
        (pl.col("channel") == "app").sum().alias("app_events"),
        pl.col("channel").is_not_null().sum().alias("channel_events"),
    )
    return (
        daily.join(_sessions(known), on=DAY, how="left")
        .select(list(ACTIVITY_SCHEMA))
        .cast(ACTIVITY_SCHEMA)
        .sort(DAY)
    )
