"""The one Dagster ``Definitions`` of the code location."""

import dagster as dg

from ecom_assets.assets import bronze, features, gold, ml, monitoring, silver
from ecom_assets.automation.jobs import daily_ml_job, label_job, medallion_job, retrain_job
from ecom_assets.automation.schedules import daily_medallion_schedule, weekly_retrain_schedule
from ecom_assets.automation.sensors import daily_ml_after_medallion_sensor, drift_retrain_sensor
from ecom_assets.checks.ml import promotion_gate
from ecom_assets.resources import build_resources

defs = dg.Definitions(
    assets=dg.load_assets_from_modules([bronze, silver, gold, features, ml, monitoring]),
    asset_checks=[promotion_gate],
    jobs=[medallion_job, label_job, daily_ml_job, retrain_job],
    schedules=[daily_medallion_schedule, weekly_retrain_schedule],
    sensors=[drift_retrain_sensor, daily_ml_after_medallion_sensor],
    resources=build_resources(),
)
