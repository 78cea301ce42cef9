"""Gold ML tables: point-in-time customer features and the forward-looking purchase label, by as-of date."""

import dagster as dg
import polars as pl

from ecom_assets.defs.horizon import require_complete_horizon
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
    ins={"facts": dg.AssetIn(asset_key(FACT_EVENTS), partition_mapping=feature_lookback)},
    group_name="gold",
    **daily_table("as_of_date", features=FEATURE_CATALOGUE),
)
def customer_daily_features(
    context: dg.AssetExecutionContext, facts: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """Behaviour of each customer active in the 28 days up to D, from events dated D-27 .. D only."""
    as_of_dates = partition_dates(context)
    features = build_customer_daily_features(facts, as_of_dates)
    return dg.Output(features, metadata=table_metadata(features, as_of_dates=len(as_of_dates)))


@dg.asset(
    key=asset_key(LABEL_PURCHASE_NEXT_7D),
    ins={
        "facts": dg.AssetIn(asset_key(FACT_EVENTS), partition_mapping=label_horizon),
        "features": dg.AssetIn(asset_key(CUSTOMER_DAILY_FEATURES)),
    },
    group_name="gold",
    **daily_table("as_of_date"),
)
def label_purchase_next_7d(
    context: dg.AssetExecutionContext, facts: pl.DataFrame, features: pl.DataFrame
) -> dg.Output[pl.DataFrame]:
    """1 if a customer of features(D) purchases in D+1 .. D+7, else 0; runs only once those days exist."""
    require_complete_horizon(context)
    labels = build_label_purchase_next_7d(features, facts)
    return dg.Output(
        labels, metadata=table_metadata(labels, positive_rate=float(labels[LABEL].mean() or 0.0))
    )
