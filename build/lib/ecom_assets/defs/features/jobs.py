"""Labels run on their own job: they wait for their seven-day look-ahead (D-7 once D has landed)."""

import dagster as dg

from ecom_assets.defs.partitions import daily_partitions
from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import LABEL_PURCHASE_NEXT_7D

label_job = dg.define_asset_job(
    "label_job",
    selection=dg.AssetSelection.assets(asset_key(LABEL_PURCHASE_NEXT_7D)),
    partitions_def=daily_partitions,
    description="Labels of as-of dates whose 7-day look-ahead is complete (D-7 once D has landed).",
)
