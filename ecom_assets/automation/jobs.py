"""Asset jobs: named selections of the graph that schedules and sensors start."""

import dagster as dg

from ecom_assets.partitions import daily_partitions

# Labels wait for their seven-day look-ahead: label_job runs them for D-7 once D has landed.
medallion_job = dg.define_asset_job(
    "medallion_job",
    selection=dg.AssetSelection.groups("bronze", "silver", "gold")
    - dg.AssetSelection.assets(["gold", "label_purchase_next_7d"]),
    partitions_def=daily_partitions,
    description="Landing → Bronze → Silver → Gold for a range of days (late arrivals re-processed).",
)

retrain_job = dg.define_asset_job(
    "retrain_job",
    selection=dg.AssetSelection.assets(["ml", "propensity_model"], ["ml", "batch_scores"]),
    partitions_def=daily_partitions,
    description="Retrain: training set → ml/propensity_model → promotion_gate → ml/batch_scores of the "
    "partition, re-scored by whichever model is champion after the gate.",
)

daily_ml_job = dg.define_asset_job(
    "daily_ml_job",
    selection=dg.AssetSelection.assets(["ml", "batch_scores"], ["monitoring", "drift_report"]),
    partitions_def=daily_partitions,
    description="Score the customers of D with the champion, then measure the drift of D against it.",
)

label_job = dg.define_asset_job(
    "label_job",
    selection=dg.AssetSelection.assets(["gold", "label_purchase_next_7d"]),
    partitions_def=daily_partitions,
    description="Labels of as-of dates whose 7-day look-ahead is complete (D-7 once D has landed).",
)
