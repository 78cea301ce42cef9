"""Silver to Gold on Spark: the fact table and customer dimension of :mod:`ecom_assets.transforms.gold`."""

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from ecom_assets.storage.spark_tables import cast_to
from ecom_assets.transforms.gold import FACT_EVENTS_SCHEMA


def build_fact_events(silver: DataFrame) -> DataFrame:
    """One row per Silver event with revenue made explicit; lineage and schema columns stay in Silver."""
    purchase = F.col("event_type") == "purchase"
    revenue = F.when(purchase, F.col("price") * F.col("quantity")).otherwise(F.lit(0.0))
    return cast_to(silver.withColumn("revenue", revenue), FACT_EVENTS_SCHEMA)


def _share(event_channel: str) -> Column:
    matching = F.sum(F.when(F.col("channel") == event_channel, 1).otherwise(0))
    return matching / F.greatest(F.count("channel"), F.lit(1))


def _last_known(column: str) -> Column:
    """The latest non-null value of ``column`` in the total order (event_ts, event_id)."""
    ordered = F.struct(F.col("event_ts"), F.col("event_id"), F.col(column).alias("value"))
    return F.max(F.when(F.col(column).isNotNull(), ordered))["value"]


def build_dim_customer(facts: DataFrame) -> DataFrame:
    """One row per known customer over all their facts: first/last seen, where, how, and what they bought."""
    purchase = F.col("event_type") == "purchase"
    return (
        facts.where(F.col("customer_id").isNotNull())
        .groupBy("customer_id")
        .agg(
            F.min("event_ts").alias("first_seen_at"),
            F.max("event_ts").alias("last_seen_at"),
            _last_known("country").alias("country"),
            _last_known("device").alias("last_device"),
            F.count_distinct("session_id").cast("int").alias("sessions"),
            F.count(F.lit(1)).cast("int").alias("events"),
            _share("web").alias("web_share"),
            _share("app").alias("app_share"),
            F.count_distinct(F.when(purchase, F.col("order_id"))).cast("int").alias("lifetime_orders"),
            F.sum("revenue").alias("lifetime_revenue"),
            F.min(F.when(purchase, F.col("event_ts"))).alias("first_order_at"),
            F.max(F.when(purchase, F.col("event_ts"))).alias("last_purchase_at"),
        )
    )
