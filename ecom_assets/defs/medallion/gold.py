"""Gold: the analytics fact table by event date and the latest customer dimension."""

import dagster as dg
import polars as pl

from ecom_assets.defs import engine
from ecom_assets.defs.metadata import figure, table_metadata
from ecom_assets.defs.tables import asset_key, daily_table
from ecom_assets.keys import DIM_CUSTOMER, FACT_EVENTS, SILVER_EVENTS
from ecom_assets.transforms.gold import build_dim_customer, build_fact_events


@dg.asset(
    key=asset_key(FACT_EVENTS),
    ins={"silver": engine.table_in(SILVER_EVENTS)},
    group_name="gold",
    **daily_table("event_date"),
)
def fact_events(
    context: dg.AssetExecutionContext, silver: engine.TableInput, spark: engine.SparkParam
) -> dg.Output:
    """Analytics-ready events: who, which session, which product and category, and purchase revenue."""
    if engine.on_spark():
        from ecom_assets.transforms import gold_spark

        return engine.write_with_spark(
            context, spark, gold_spark.build_fact_events(engine.read_with_spark(spark, silver))
        )
    facts = build_fact_events(silver)
    return dg.Output(
        facts,
        metadata=table_metadata(
            facts,
            revenue=figure(facts, pl.col("revenue").sum()),
            known_customer_share=figure(facts, pl.col("customer_id").is_not_null().mean()),
        ),
    )


@dg.asset(
    key=asset_key(DIM_CUSTOMER),
    ins={"facts": engine.table_in(FACT_EVENTS)},
    group_name="gold",
    io_manager_key="io_manager",
    kinds={"delta", "polars"},
)
def dim_customer(
    context: dg.AssetExecutionContext, facts: engine.TableInput, spark: engine.SparkParam
) -> dg.Output:
    """One row per known customer: first and last seen, country, channel mix, lifetime orders and revenue."""
    if engine.on_spark():
        from ecom_assets.transforms import gold_spark

        return engine.write_with_spark(
            context, spark, gold_spark.build_dim_customer(engine.read_with_spark(spark, facts))
        )
    customers = build_dim_customer(facts)
    return dg.Output(customers, metadata=table_metadata(customers))
