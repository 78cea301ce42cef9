"""Asset jobs: named selections of the graph that schedules and sensors start."""

import dagster as dg

from ecom_assets.partitions import daily_partitions

medallion_selection = dg.AssetSelection.groups("bronze", "silver", "gold") - dg.AssetSelection.assets(
    ["gold", "dim_customer"]
)

medallion_job = dg.define_asset_job(
    "medallion_job",
    selection=medallion_selection | dg.AssetSelection.assets(["gold", "dim_customer"]),
    partitions_def=daily_partitions,
    description="Landing → Bronze → Silver → Gold for a range of days (late arrivals re-processed).",
)
