"""The guard every asset that looks seven days ahead shares: its look-ahead must have landed in full."""

import dagster as dg

from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import FACT_EVENTS


def require_complete_horizon(context: dg.AssetExecutionContext, facts_input: str = "facts") -> None:
    """Fail unless every fact_events day of the look-ahead was materialised: days after the last partition
    are refused by the mapping, but days inside it that were never materialised would read as "no
    purchase" and count as wrong zeros."""
    horizon = context.asset_partition_keys_for_input(facts_input)
    missing = sorted(set(horizon) - context.instance.get_materialized_partitions(asset_key(FACT_EVENTS)))
    if missing:
        raise ValueError(
            f"{FACT_EVENTS} is not materialised for {missing[0]} .. {missing[-1]} ({len(missing)} days): "
            "outcomes need every day of their look-ahead; materialise those days first"
        )
