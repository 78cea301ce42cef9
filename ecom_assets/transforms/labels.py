"""The training label: did a customer of features(D) purchase in D+1 .. D+7? It only ever looks forward."""

import datetime as dt

import polars as pl

LABEL_HORIZON_DAYS = 7
LABEL = "purchased_next_7d"


def build_label_purchase_next_7d(
    features: pl.DataFrame | pl.LazyFrame, events: pl.DataFrame | pl.LazyFrame
) -> pl.DataFrame:
    """One row per (customer_id, as_of_date) of ``features``: 1 if they bought in the 7 days after, else 0.

    ``events`` must cover D+1 .. D+7 for every as-of date D in ``features``; the asset's partition
    mapping guarantees this, and the dates outside each horizon are ignored. Lazy inputs are read for
    the few columns and the purchases this needs.
    """
    purchases = events.lazy().filter(
        (pl.col("event_type") == "purchase") & pl.col("customer_id").is_not_null()
    )
    purchase_days = purchases.select("customer_id", "event_date").unique().collect()
    keys = features.lazy().select("customer_id", "as_of_date").collect()
    bought = (
        keys.join(purchase_days, on="customer_id", how="inner")
        .filter(
            (pl.col("event_date") > pl.col("as_of_date"))
            & (pl.col("event_date") <= pl.col("as_of_date") + dt.timedelta(days=LABEL_HORIZON_DAYS))
        )
        .select("customer_id", "as_of_date")
        .unique()
        .with_columns(pl.lit(1, dtype=pl.Int8).alias(LABEL))
    )
    return (
        keys.join(bought, on=["customer_id", "as_of_date"], how="left")
        .with_columns(pl.col(LABEL).fill_null(0))
        .sort("as_of_date", "customer_id")
    )
