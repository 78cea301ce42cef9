"""Gold ML tables: the daily activity aggregate, point-in-time customer features from it, and the
forward-looking purchase label, by date."""

from collections.abc import Iterator

import dagster as dg
import polars as pl

from ecom_assets.defs import engine
from ecom_assets.defs.horizon import require_complete_horizon
from ecom_assets.defs.metadata import figure, markdown_table, table_metadata
from ecom_assets.defs.partitions import activity_lookback, label_horizon, partition_dates
from ecom_assets.defs.resources import LakeResource
from ecom_assets.defs.tables import TableStream, asset_key, daily_table
from ecom_assets.keys import (
    CUSTOMER_DAILY_ACTIVITY,
    CUSTOMER_DAILY_FEATURES,
    DIM_CUSTOMER,
    FACT_EVENTS,
    LABEL_PURCHASE_NEXT_7D,
)
from ecom_assets.transforms.activity import build_customer_daily_activity
from ecom_assets.transforms.features import FEATURES, FEATURES_SCHEMA, features_by_date, first_dates
from ecom_assets.transforms.labels import LABEL, build_label_purchase_next_7d

FEATURE_CATALOGUE = markdown_table(
    pl.DataFrame({"feature": [f.name for f in FEATURES], "description": [f.description for f in FEATURES]}),
    max_rows=len(FEATURES),
    max_width=100,
)


@dg.asset(
    key=asset_key(CUSTOMER_DAILY_ACTIVITY),
    # Read below one event date at a time rather than loaded whole: a range run holds one day of facts.
    deps=[asset_key(FACT_EVENTS)],
    group_name="gold",
    **daily_table("event_date"),
)
def customer_daily_activity(
    context: dg.AssetExecutionContext, lake_resource: LakeResource, spark: engine.SparkParam
) -> dg.Output:
    """One row per known customer per event date: events by type, sessions, orders, revenue, products."""
    lake = lake_resource.get_lake()
    dates = partition_dates(context)
    if engine.on_spark():
        from ecom_assets.transforms import activity_spark

        facts = engine.TableSlice(lake.table_uri(FACT_EVENTS), "event_date", tuple(dates))
        by_spark = activity_spark.build_customer_daily_activity(engine.read_with_spark(spark, facts))
        return engine.write_with_spark(context, spark, by_spark)
    days = [build_customer_daily_activity(lake.read_table(FACT_EVENTS, "event_date", [day])) for day in dates]
    activity = pl.concat(days)
    return dg.Output(
        activity, metadata=table_metadata(activity, customers=activity["customer_id"].n_unique())
    )


@dg.asset(
    key=asset_key(CUSTOMER_DAILY_FEATURES),
    ins={
        "activity": engine.table_in(CUSTOMER_DAILY_ACTIVITY, partition_mapping=activity_lookback),
        "customers": engine.table_in(DIM_CUSTOMER),
    },
    group_name="gold",
    **daily_table("as_of_date", pl.Schema(FEATURES_SCHEMA), features=FEATURE_CATALOGUE),
)
def customer_daily_features(
    context: dg.AssetExecutionContext,
    activity: engine.TableInput,
    customers: engine.TableInput,
    spark: engine.SparkParam,
) -> dg.Output:
    """Behaviour of each customer active in the 90 days up to D, from daily activity dated D-89 .. D only
    (and first-seen / first-order dates on or before D)."""
    as_of_dates = partition_dates(context)
    if engine.on_spark():
        from ecom_assets.transforms import features_spark

        by_spark = features_spark.build_customer_daily_features(
            engine.spark_session(spark),
            engine.read_with_spark(spark, activity),
            as_of_dates,
            features_spark.first_dates(engine.read_with_spark(spark, customers)),
        )
        return engine.write_with_spark(context, spark, by_spark, as_of_dates=len(as_of_dates))
    by_date = features_by_date(activity, as_of_dates, first_dates(customers))
    return dg.Output(
        TableStream(by_date, pl.Schema(FEATURES_SCHEMA), lambda: {"as_of_dates": len(as_of_dates)})
    )


@dg.asset(
    key=asset_key(LABEL_PURCHASE_NEXT_7D),
    ins={
        "facts": engine.table_in(FACT_EVENTS, lazy=True, partition_mapping=label_horizon),
        "features": engine.table_in(CUSTOMER_DAILY_FEATURES, lazy=True),
    },
    group_name="gold",
    # As-of dates without features (before the lake's first day) have nothing to label: skipped, not failed.
    output_required=False,
    **daily_table("as_of_date"),
)
def label_purchase_next_7d(
    context: dg.AssetExecutionContext,
    facts: engine.TableInput,
    features: engine.TableInput,
    spark: engine.SparkParam,
) -> Iterator[dg.Output]:
    """1 if a customer of features(D) purchases in D+1 .. D+7, else 0; runs only once those days exist."""
    with_features = set(context.partition_keys) & context.instance.get_materialized_partitions(
        asset_key(CUSTOMER_DAILY_FEATURES)
    )
    if not with_features:
        context.log.warning(
            f"{LABEL_PURCHASE_NEXT_7D}: skipped, {CUSTOMER_DAILY_FEATURES} is not materialised for "
            f"{context.partition_key_range.start} .. {context.partition_key_range.end}: nothing to label yet"
        )
        return
    require_complete_horizon(context)
    if engine.on_spark():
        from ecom_assets.transforms import labels_spark

        spark_features, spark_facts = (
            engine.read_with_spark(spark, features),
            engine.read_with_spark(spark, facts),
        )
        labelled = labels_spark.build_label_purchase_next_7d(spark_features, spark_facts)
        yield engine.write_with_spark(context, spark, labelled)
        return
    labels = build_label_purchase_next_7d(features, facts)
    yield dg.Output(
        labels, metadata=table_metadata(labels, positive_rate=figure(labels, pl.col(LABEL).mean()))
    )
