"""Gold: the analytics fact table by event date and the latest customer dimension."""

import dagster as dg
import polars as pl

from ecom_assets.defs.metadata import table_metadata
from ecom_assets.defs.tables import asset_key, daily_table
from ecom_assets.keys import DIM_CUSTOMER, FACT_EVENTS, SILVER_EVENTS
from ecom_assets.transforms.gold import build_dim_customer, build_fact_events


@dg.asset(
    key=asset_key(FACT_EVENTS),
    ins={"silver": dg.AssetIn(asset_key(SILVER_EVENTS))},
    group_name="gold",
    **daily_table("event_date"),
)
def fact_events(silver: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    """Analytics-ready events: who, which session, which product and category, and purchase revenue."""
    facts = build_fact_events(silver)
    return dg.Output(
        facts,
        metadata=table_metadata(
            facts,
            revenue=float(facts["revenue"].sum()),
            known_customer_share=float(facts["customer_id"].is_not_null().mean() or 0.0),
        ),
    )


@dg.asset(
    key=asset_key(DIM_CUSTOMER),
    ins={"facts": dg.AssetIn(asset_key(FACT_EVENTS))},
    group_name="gold",
    io_manager_key="io_manager",
    kinds={"delta", "polars"},
)
def dim_customer(facts: pl.DataFrame) -> dg.Output[pl.DataFrame]:
    """One row per known customer: first and last seen, country, channel mix, lifetime orders and revenue."""
    customers = build_dim_customer(facts)
    return dg.Output(customers, metadata=table_metadata(customers))
