"""Silver to Gold: the analytics fact table and the customer dimension."""

import polars as pl

# The typed schema of gold/fact_events: Silver's contract columns plus revenue, without lineage columns.
FACT_EVENTS_SCHEMA = pl.Schema(
    {
        "event_id": pl.String(),
        "event_date": pl.Date(),
        "event_ts": pl.Datetime("us", "UTC"),
        "event_type": pl.String(),
        "customer_id": pl.String(),
        "anonymous_id": pl.String(),
        "session_id": pl.String(),
        "product_id": pl.String(),
        "category": pl.String(),
        "brand": pl.String(),
        "price": pl.Float64(),
        "quantity": pl.Int32(),
        "revenue": pl.Float64(),
        "order_id": pl.String(),
        "channel": pl.String(),
        "device": pl.String(),
        "country": pl.String(),
        "currency": pl.String(),
    }
)


def build_fact_events(silver: pl.DataFrame) -> pl.DataFrame:
    """One row per Silver event with revenue made explicit; lineage and schema columns stay in Silver."""
    revenue = (
        pl.when(pl.col("event_type") == "purchase").then(pl.col("price") * pl.col("quantity")).otherwise(0.0)
    )
    return silver.with_columns(revenue=revenue).select(list(FACT_EVENTS_SCHEMA)).cast(FACT_EVENTS_SCHEMA)


def _share(event_channel: str) -> pl.Expr:
    return (pl.col("channel") == event_channel).sum() / pl.col("channel").is_not_null().sum().clip(
        lower_bound=1
    )


def build_dim_customer(facts: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """One row per known customer over all their facts: first/last seen, where, how, and what they bought.

    "Last" follows the total order (event_ts, event_id), so events at the same instant cannot make the
    result depend on the order the rows came in. Lazy facts are read for the known customers' rows and
    the columns used only.
    """
    known = facts.lazy().filter(pl.col("customer_id").is_not_null())
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
            first_order_at=pl.col("event_ts").filter(purchases).min(),
            last_purchase_at=pl.col("event_ts").filter(purchases).max(),
        )
        .sort("customer_id")
        .collect()
    )
