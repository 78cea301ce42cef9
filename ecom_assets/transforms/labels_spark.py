"""The training label on Spark: the same rows as :mod:`ecom_assets.transforms.labels`."""

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from ecom_assets.transforms.labels import LABEL, LABEL_HORIZON_DAYS


def build_label_purchase_next_7d(features: DataFrame, events: DataFrame) -> DataFrame:
    """One row per (customer_id, as_of_date) of ``features``: 1 if they bought in the 7 days after, else 0."""
    purchase_days = (
        events.where((F.col("event_type") == "purchase") & F.col("customer_id").isNotNull())
        .select("customer_id", "event_date")
        .distinct()
    )
    keys = features.select("customer_id", "as_of_date")
    in_horizon = (F.col("event_date") > F.col("as_of_date")) & (
        F.col("event_date") <= F.date_add(F.col("as_of_date"), LABEL_HORIZON_DAYS)
    )
    bought = (
        keys.join(purchase_days, on="customer_id")
        .where(in_horizon)
        .select("customer_id", "as_of_date")
        .distinct()
        .withColumn(LABEL, F.lit(1).cast("byte"))
    )
    labelled = keys.join(bought, on=["customer_id", "as_of_date"], how="left")
    return labelled.withColumn(LABEL, F.coalesce(F.col(LABEL), F.lit(0)).cast("byte"))
