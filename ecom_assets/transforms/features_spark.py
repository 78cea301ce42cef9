"""Point-in-time customer features on Spark: the same rows as :mod:`ecom_assets.transforms.features`.

Events are first folded into one row per customer and day (counts, revenue and the sets behind every
distinct count); each as-of date then takes the days D-27 .. D of that activity, so the wide event rows
are read once however many as-of dates a run covers. Windows are integer day offsets, never
``INTERVAL`` frames (Sail 0.7.2 computes those over the whole partition).
"""

import datetime as dt
from collections.abc import Sequence

import polars as pl
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from ecom_assets.storage.spark_tables import cast_to
from ecom_assets.transforms.features import (
    _EVENT_COUNTS,
    FEATURE_LOOKBACK_DAYS,
    FEATURES_SCHEMA,
    NOT_SEEN_DAYS,
    WINDOWS,
)


def _is(event_type: str) -> Column:
    return F.col("event_type") == event_type


def customer_daily_activity(events: DataFrame) -> DataFrame:
    """One row per known customer and event date: event counts, revenue, channel mix and distinct sets."""
    known = events.where(F.col("customer_id").isNotNull())
    counts = [
        F.sum(_is(event_type).cast("long")).alias(stem) for stem, (event_type, _) in _EVENT_COUNTS.items()
    ]
    return known.groupBy("customer_id", "event_date").agg(
        *counts,
        F.sum("revenue").alias("revenue"),
        F.sum((F.col("channel") == "app").cast("long")).alias("app_events"),
        F.count("channel").alias("channel_events"),
        F.collect_set("session_id").alias("session_id"),
        F.collect_set(F.when(_is("purchase"), F.col("order_id"))).alias("order_id"),
        F.collect_set("product_id").alias("product_id"),
        F.collect_set("category").alias("category"),
        F.collect_set(F.when(_is("add_to_cart"), F.col("session_id"))).alias("carted_session"),
        F.collect_set(F.when(_is("purchase"), F.col("session_id"))).alias("bought_session"),
    )


def _distinct(name: str, inside: Column) -> Column:
    empty = F.array().cast("array<string>")
    return F.size(F.array_distinct(F.flatten(F.collect_list(F.when(inside, F.col(name)).otherwise(empty)))))


def _window_aggregates(days: int) -> list[Column]:
    inside = F.col("days_ago") < days
    sums = [
        F.sum(F.when(inside, F.col(stem)).otherwise(0)).alias(f"{stem}_{days}d")
        for stem in (*_EVENT_COUNTS, "revenue")
    ]
    return [
        _distinct("session_id", inside).alias(f"sessions_{days}d"),
        *sums,
        _distinct("order_id", inside).alias(f"orders_{days}d"),
        _distinct("product_id", inside).alias(f"distinct_products_{days}d"),
        _distinct("category", inside).alias(f"distinct_categories_{days}d"),
    ]


def _last_seen(condition: Column) -> Column:
    return F.coalesce(F.min(F.when(condition, F.col("days_ago"))), F.lit(NOT_SEEN_DAYS))


def _ratio(numerator: str, denominator: str) -> Column:
    return F.when(F.col(denominator) > 0, F.col(numerator) / F.col(denominator)).otherwise(F.lit(0.0))


def _abandonment() -> Column:
    carted = F.array_distinct(F.flatten(F.collect_list("carted_session")))
    bought = F.array_distinct(F.flatten(F.collect_list("bought_session")))
    return F.size(F.array_except(carted, bought)) / F.greatest(F.size(carted), F.lit(1))


def build_customer_daily_features(
    spark: SparkSession, events: DataFrame, as_of_dates: Sequence[dt.date]
) -> DataFrame:
    """Features for each as-of date from its own 28-day window (a ranged run covers several dates)."""
    dates = spark.createDataFrame([(day,) for day in sorted(as_of_dates)], "as_of_date date")
    lookback = FEATURE_LOOKBACK_DAYS - 1
    activity = customer_daily_activity(events)
    in_window = (F.col("event_date") <= F.col("as_of_date")) & (
        F.col("event_date") >= F.date_sub(F.col("as_of_date"), lookback)
    )
    windowed = activity.join(dates, in_window).withColumn(
        "days_ago", F.datediff(F.col("as_of_date"), F.col("event_date"))
    )
    aggregated = windowed.groupBy("customer_id", "as_of_date").agg(
        *(expr for days in WINDOWS for expr in _window_aggregates(days)),
        F.count_distinct("event_date").alias("active_days_28d"),
        _last_seen(F.lit(True)).alias("days_since_last_visit"),
        _last_seen(F.col("add_to_carts") > 0).alias("days_since_last_cart"),
        _last_seen(F.col("purchases") > 0).alias("days_since_last_purchase"),
        F.max("days_ago").alias("tenure_days"),
        F.sum("app_events").alias("app_events"),
        F.sum("channel_events").alias("channel_events"),
        _abandonment().alias("cart_abandonment_28d"),
    )
    features = aggregated.withColumns(
        {
            "cart_to_view_28d": _ratio("add_to_carts_28d", "product_views_28d"),
            "purchase_to_cart_28d": _ratio("purchases_28d", "add_to_carts_28d"),
            "avg_order_value_28d": _ratio("revenue_28d", "orders_28d"),
            "app_share_28d": _ratio("app_events", "channel_events"),
        }
    )
    return cast_to(features, pl.Schema(FEATURES_SCHEMA))
