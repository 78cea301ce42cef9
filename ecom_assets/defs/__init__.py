"""What Dagster loads: one folder per domain (assets, checks, jobs, schedules, sensors), resources in one
module. ``ecom_assets.definitions`` builds the code location from this folder."""
