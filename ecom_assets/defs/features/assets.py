"""Gold ML tables: point-in-time customer features and the forward-looking purchase label, by as-of date."""

import dagster as dg
import polars as pl

from ecom_assets.defs import engine
from ecom_assets.defs.metadata import markdown_table, table_metadata
from ecom_assets.defs.partitions import feature_lookback, label_horizon, partition_dates
from ecom_assets.defs.tables import asset_key, daily_table
from ecom_assets.keys import CUSTOMER_DAILY_FEATURES, FACT_EVENTS, LABEL_PURCHASE_NEXT_7D
from ecom_assets.transforms.features import FEATURES, build_customer_daily_features
from ecom_assets.transforms.labels import LABEL, build_label_purchase_next_7d

FEATURE_CATALOGUE = markdown_table(
    pl.DataFrame({"feature": [f.name for f in FEATURES], "description": [f.description for f in FEATURES]}),
    max_rows=len(FEATURES),
    max_width=100,
)


@dg.asset(
    key=asset_key(CUSTOMER_DAILY_FEATURES),
    ins={"facts": engine.table_in(FACT_EVENTS, partition_mapping=feature_lookback)},
    group_name="gold",
    **daily_table("as_of_date", features=FEATURE_CATALOGUE),
)
def customer_daily_features(
    context: dg.AssetExecutionContext, facts: engine.TableInput, spark: engine.SparkParam
) -> dg.Output:
    """Behaviour of each customer active in the 28 days up to D, from events dated D-27 .. D only."""
    as_of_dates = partition_dates(context)
    if engine.on_spark():
        from ecom_assets.transforms import features_spark

        events = engine.read_with_spark(spark, facts)
        by_spark = features_spark.build_customer_daily_features(
            engine.spark_session(spark), events, as_of_dates
        )
        return engine.write_with_spark(context, spark, by_spark, as_of_dates=len(as_of_dates))
    features = build_customer_daily_features(facts, as_of_dates)
    return dg.Output(features, metadata=table_metadata(features, as_of_dates=len(as_of_dates)))


@dg.asset(
    key=asset_key(LABEL_PURCHASE_NEXT_7D),
    ins={
        "facts": engine.table_in(FACT_EVENTS, partition_mapping=label_horizon),
        "features": engine.table_in(CUSTOMER_DAILY_FEATURES),
    },
    group_name="gold",
    **daily_table("as_of_date"),
)
def label_purchase_next_7d(
    context: dg.AssetExecutionContext,
    facts: engine.TableInput,
    features: engine.TableInput,
    spark: engine.SparkParam,
) -> dg.Output:
    """1 if a customer of features(D) purchases in D+1 .. D+7, else 0; runs only once those days exist."""
    # Days after the last partition are refused by the mapping; days inside it that were never
    # materialised would read as "no purchase" and teach the model wrong zeros.
    horizon = context.asset_partition_keys_for_input("facts")
    missing = sorted(set(horizon) - context.instance.get_materialized_partitions(asset_key(FACT_EVENTS)))
    if missing:
        raise ValueError(
            f"gold/fact_events is not materialised for {missing[0]} .. {missing[-1]} ({len(missing)} days): "
            "labels need every day of their look-ahead; materialise those days first"
        )
    if engine.on_spark():
        from ecom_assets.transforms import labels_spark

        spark_features, spark_facts = (
            engine.read_with_spark(spark, features),
            engine.read_with_spark(spark, facts),
        )
        labelled = labels_spark.build_label_purchase_next_7d(spark_features, spark_facts)
        return engine.write_with_spark(context, spark, labelled)
    labels = build_label_purchase_next_7d(features, facts)
    return dg.Output(
        labels, metadata=table_metadata(labels, positive_rate=float(labels[LABEL].mean() or 0.0))
    )
