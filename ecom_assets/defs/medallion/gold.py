"""Gold: the analytics fact table by event date and the latest customer dimension."""

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import polars as pl

from ecom_assets.defs import engine
from ecom_assets.defs.metadata import figure, table_metadata
from ecom_assets.defs.partitions import partition_dates
from ecom_assets.defs.tables import TableStream, asset_key, daily_table
from ecom_assets.keys import DIM_CUSTOMER, FACT_EVENTS, SILVER_EVENTS
from ecom_assets.transforms.gold import FACT_EVENTS_SCHEMA, build_dim_customer, build_fact_events
from ecom_assets.transforms.threads import map_ahead


@dg.asset(
    key=asset_key(FACT_EVENTS),
    ins={"silver": engine.table_in(SILVER_EVENTS, lazy=True)},
    group_name="gold",
    **daily_table("event_date", FACT_EVENTS_SCHEMA),
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
    totals = {"revenue": 0.0, "known": 0.0, "rows": 0.0}

    def facts_of(date: dt.date) -> pl.DataFrame:
        return build_fact_events(silver.filter(pl.col("event_date") == date).collect())

    def by_date() -> Iterator[pl.DataFrame]:
        for facts in map_ahead(facts_of, partition_dates(context)):
            totals["revenue"] += figure(facts, pl.col("revenue").sum())
            totals["known"] += figure(facts, pl.col("customer_id").is_not_null().sum())
            totals["rows"] += facts.height
            yield facts

    def figures() -> dict:
        return {
            "revenue": totals["revenue"],
            "known_customer_share": totals["known"] / max(totals["rows"], 1),
        }

    return dg.Output(TableStream(by_date(), FACT_EVENTS_SCHEMA, figures))


@dg.asset(
    key=asset_key(DIM_CUSTOMER),
    ins={"facts": engine.table_in(FACT_EVENTS, lazy=True)},
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
