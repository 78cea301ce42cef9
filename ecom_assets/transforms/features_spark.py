"""Point-in-time customer features on Spark: the same rows as :mod:`ecom_assets.transforms.features`.

Each as-of date D joins the activity dated D-89 .. D and aggregates it per customer, so the activity is read
once however many as-of dates a run covers. Windows are integer day offsets (``days_ago``), never
``INTERVAL`` frames (Sail 0.7.2 computes those over the whole partition).
"""

import datetime as dt
from collections.abc import Sequence

import polars as pl
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from ecom_assets.storage.spark_tables import cast_to
from ecom_assets.transforms.activity import EVENT_COUNTS
from ecom_assets.transforms.features import (
    FEATURE_LOOKBACK_DAYS,
    FEATURES_SCHEMA,
    FIRST_DATES_SCHEMA,
    LONG_WINDOW,
    NOT_SEEN_DAYS,
    WINDOWS,
)

_ORDERED = F.col("orders") > 0
_SESSION_COUNTS = ("carted_sessions", "abandoned_sessions")


def first_dates(dim_customer: DataFrame) -> DataFrame:
    """Each customer's first-seen and first-order dates from ``gold/dim_customer`` (dates in UTC)."""
    dates = dim_customer.select(
        "customer_id",
        F.to_date("first_seen_at").alias("first_seen_date"),
        F.to_date("first_order_at").alias("first_order_date"),
    )
    return cast_to(dates, FIRST_DATES_SCHEMA)


def _distinct(column: str, inside: Column) -> Column:
    """Distinct values over the days of a window, from each day's array of distinct values."""
    empty = F.array().cast("array<string>")
    return F.size(F.array_distinct(F.flatten(F.collect_list(F.when(inside, F.col(column)).otherwise(empty)))))


def _sum_where(column: str, inside: Column) -> Column:
    return F.sum(F.when(inside, F.col(column)).otherwise(0))


def _window_sums(days: int) -> list[Column]:
    inside = F.col("days_ago") < days
    summed = ("sessions", *EVENT_COUNTS, "orders", "revenue")
    return [
        *(_sum_where(name, inside).alias(f"{name}_{days}d") for name in summed),
        _distinct("products", inside).alias(f"distinct_products_{days}d"),
        _distinct("categories", inside).alias(f"distinct_categories_{days}d"),
    ]


def _last_seen(condition: Column) -> Column:
    return F.coalesce(F.min(F.when(condition, F.col("days_ago"))), F.lit(NOT_SEEN_DAYS))


def _with_order_gaps(windowed: DataFrame) -> DataFrame:
    """Each order day's gap to the customer's previous order day inside the as-of date's look-back."""
    order_days = Window.partitionBy("customer_id", "as_of_date", _ORDERED).orderBy("days_ago")
    gap = F.col("days_ago") - F.lag("days_ago").over(order_days)
    return windowed.withColumn("order_gap", F.when(_ORDERED, gap))


def _aggregates() -> list[Column]:
    in_28d = F.col("days_ago") < 28
    return [
        *(expr for days in WINDOWS for expr in _window_sums(days)),
        F.count(F.when(in_28d, F.lit(1))).alias("active_days_28d"),
        _last_seen(F.lit(True)).alias("days_since_last_visit"),
        _last_seen(F.col("add_to_carts") > 0).alias("days_since_last_cart"),
        _last_seen(F.col("purchases") > 0).alias("days_since_last_purchase"),
        F.max("days_ago").alias("seen_in_window"),
        F.max(F.when(_ORDERED, F.col("days_ago"))).alias("ordered_in_window"),
        F.sum("orders").alias(f"orders_{LONG_WINDOW}"),
        F.sum("revenue").alias(f"revenue_{LONG_WINDOW}"),
        F.count_distinct(F.floor(F.col("days_ago") / 7)).alias(f"active_weeks_{LONG_WINDOW}"),
        F.count(F.when(_ORDERED, F.lit(1))).alias(f"order_days_{LONG_WINDOW}"),
        F.coalesce(F.avg("order_gap"), F.lit(NOT_SEEN_DAYS)).alias(f"order_gap_mean_{LONG_WINDOW}"),
        F.coalesce(F.stddev_pop("order_gap"), F.lit(0.0)).alias(f"order_gap_std_{LONG_WINDOW}"),
        *(_sum_where(name, in_28d).alias(f"{name}_28d") for name in _SESSION_COUNTS),
        *(_sum_where(name, in_28d).alias(name) for name in ("app_events", "channel_events")),
    ]


def _days_since(first_date: str, in_window: str) -> Column:
    """Days from a first date to D, counting only dates on or before D, capped at the look-back."""
    known = F.when(F.col(first_date) <= F.col("as_of_date"), F.datediff("as_of_date", first_date))
    # greatest and least skip nulls: neither date known stays null
    latest = F.greatest(known, F.col(in_window))
    return F.when(latest.isNotNull(), F.least(latest, F.lit(NOT_SEEN_DAYS)))


def _ratio(numerator: str, denominator: str) -> Column:
    return F.when(F.col(denominator) > 0, F.col(numerator) / F.col(denominator)).otherwise(F.lit(0.0))


def build_customer_daily_features(
    spark: SparkSession, activity: DataFrame, as_of_dates: Sequence[dt.date], first_dates: DataFrame
) -> DataFrame:
    """Features for each as-of date from its own 90-day window of ``gold/customer_daily_activity`` (a
    ranged run covers several dates); of ``first_dates`` only dates on or before D count."""
    dates = spark.createDataFrame([(day,) for day in sorted(as_of_dates)], "as_of_date date")
    in_lookback = (F.col("event_date") <= F.col("as_of_date")) & (
        F.col("event_date") >= F.date_sub(F.col("as_of_date"), FEATURE_LOOKBACK_DAYS - 1)
    )
    windowed = activity.join(dates, in_lookback).withColumn(
        "days_ago", F.datediff(F.col("as_of_date"), F.col("event_date"))
    )
    aggregated = _with_order_gaps(windowed).groupBy("customer_id", "as_of_date").agg(*_aggregates())
    gap = F.col(f"order_gap_mean_{LONG_WINDOW}")
    features = aggregated.join(first_dates, on="customer_id", how="left").withColumns(
        {
            "tenure_days": _days_since("first_seen_date", "seen_in_window"),
            "days_since_first_order": F.coalesce(
                _days_since("first_order_date", "ordered_in_window"), F.lit(0.0)
            ),
            "order_gap_elapsed": F.col("days_since_last_purchase") / F.when(gap > 0, gap).otherwise(1),
            "cart_to_view_28d": _ratio("add_to_carts_28d", "product_views_28d"),
            "purchase_to_cart_28d": _ratio("purchases_28d", "add_to_carts_28d"),
            "cart_abandonment_28d": _ratio("abandoned_sessions_28d", "carted_sessions_28d"),
            "avg_order_value_28d": _ratio("revenue_28d", "orders_28d"),
            "app_share_28d": _ratio("app_events", "channel_events"),
        }
    )
    return cast_to(features, pl.Schema(FEATURES_SCHEMA))
