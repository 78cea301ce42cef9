"""The one Dagster ``Definitions`` of the code location."""

import dagster as dg

from ecom_assets.assets import bronze, features, gold, ml, silver
from ecom_assets.automation.jobs import medallion_job
from ecom_assets.automation.schedules import daily_medallion_schedule
from ecom_assets.checks.ml import promotion_gate
from ecom_assets.resources import build_resources

all_assets = dg.load_assets_from_modules([bronze, silver, gold, features, ml])

defs = dg.Definitions(
    assets=all_assets,
    asset_checks=[promotion_gate],
    jobs=[medallion_job],
    schedules=[daily_medallion_schedule],
    resources=build_resources(),
)
