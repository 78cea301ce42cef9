"""Gold facts to daily customer activity on Spark: the same rows as :mod:`ecom_assets.transforms.activity`."""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ecom_assets.storage.spark_tables import cast_to
from ecom_assets.transforms.activity import ACTIVITY_SCHEMA, DAY, EVENT_COUNTS


def _is(event_type: str) -> Column:
    return F.col("event_type") == event_type


def _count_where(condition: Column) -> Column:
    """Rows where ``condition`` holds: 0, not null, when none does (as polars' sum of booleans)."""
    return F.count(F.when(condition, F.lit(1)))


def _sorted_distinct(column: str) -> Column:
    return F.array_sort(F.collect_set(column))


def _sessions(known: DataFrame) -> DataFrame:
    """Sessions per day with an add-to-cart, and of those, without a purchase (cart abandonment)."""
    sessions = known.groupBy(*DAY, "session_id").agg(
        F.max(_is("add_to_cart")).alias("carted"), F.max(_is("purchase")).alias("bought")
    )
    return sessions.groupBy(*DAY).agg(
        _count_where(F.col("carted")).alias("carted_sessions"),
        _count_where(F.col("carted") & ~F.col("bought")).alias("abandoned_sessions"),
    )


def build_customer_daily_activity(facts: DataFrame) -> DataFrame:
    """One row per known customer and event date with any event: counts per event type, sessions, orders,
    revenue, distinct products and categories, carted/abandoned sessions and the channel mix."""
    known = facts.where(F.col("customer_id").isNotNull())
    daily = known.groupBy(*DAY).agg(
        F.count_distinct("session_id").alias("sessions"),
        *(_count_where(_is(event_type)).alias(name) for name, event_type in EVENT_COUNTS.items()),
        F.count_distinct(F.when(_is("purchase"), F.col("order_id"))).alias("orders"),
        F.coalesce(F.sum("revenue"), F.lit(0.0)).alias("revenue"),
        _sorted_distinct("product_id").alias("products"),
        _sorted_distinct("category").alias("categories"),
        _count_where(F.col("channel") == "app").alias("app_events"),
        F.count("channel").alias("channel_events"),
    )
    return cast_to(daily.join(_sessions(known), on=DAY, how="left"), ACTIVITY_SCHEMA)
