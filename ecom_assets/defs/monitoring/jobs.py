"""Realised performance runs on its own job: like labels, it waits for the seven-day look-ahead."""

import dagster as dg

from ecom_assets.defs.partitions import daily_partitions
from ecom_assets.defs.tables import asset_key
from ecom_assets.keys import MODEL_PERFORMANCE

model_performance_job = dg.define_asset_job(
    "model_performance_job",
    selection=dg.AssetSelection.assets(asset_key(MODEL_PERFORMANCE)),
    partitions_def=daily_partitions,
    description="Realised performance of the scores of as-of dates whose 7-day outcomes are complete "
    "(D-7 once D has landed).",
)
