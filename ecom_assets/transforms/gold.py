"""Silver to Gold: the analytics fact table and the customer dimension."""

import polars as pl

FACT_COLUMNS = (
    "event_id",
    "event_date",
    "event_ts",
    "event_type",
    "customer_id",
    "anonymous_id",
    "session_id",
    "product_id",
    "category",
    "brand",
    "price",
    "quantity",
    "revenue",
    "order_id",
    "channel",
    "device",
    "country",
    "currency",
)


def build_fact_events(silver: pl.DataFrame) -> pl.DataFrame:
    """One row per Silver event with revenue made explicit; lineage and schema columns stay in Silver."""
    revenue = (
        pl.when(pl.col("event_type") == "purchase").then(pl.col("price") * pl.col("quantity")).otherwise(0.0)
    )
    return silver.with_columns(revenue=revenue.cast(pl.Float64)).select(FACT_COLUMNS)


def _share(event_channel: str) -> pl.Expr:
    return (pl.col("channel") == event_channel).sum() / pl.col("channel").is_not_null().sum().clip(
        lower_bound=1
    )


def build_dim_customer(facts: pl.DataFrame) -> pl.DataFrame:
    """One row per known customer over all their facts: first/last seen, where, how, and what they bought.

    "Last" follows the total order (event_ts, event_id), so events at the same instant cannot make the
    result depend on the order the rows came in.
    """
    known = facts.filter(pl.col("customer_id").is_not_null())
    purchases = pl.col("event_type") == "purchase"
    return (
        known.sort("event_ts", "event_id")
        .group_by("customer_id")
        .agg(
            first_seen_at=pl.col("event_ts").min(),
            last_seen_at=pl.col("event_ts").max(),
            country=pl.col("country").drop_nulls().last(),
            last_device=pl.col("device").drop_nulls().last(),
            sessions=pl.col("session_id").n_unique(),
            events=pl.len(),
            web_share=_share("web"),
            app_share=_share("app"),
            lifetime_orders=pl.col("order_id").filter(purchases).n_unique(),
            lifetime_revenue=pl.col("revenue").sum(),
            last_purchase_at=pl.col("event_ts").filter(purchases).max(),
        )
        .sort("customer_id")
    )
