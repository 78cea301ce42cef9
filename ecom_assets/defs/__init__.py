"""What Dagster loads: one folder per domain (assets, checks, jobs, schedules, sensors), resources in one
module. ``ecom_assets.definitions`` builds the code location from this folder."""

import warnings

from dagster import BetaWarning, PreviewWarning

# Range runs (backfill_policy) and nonexistent-partition mappings are beta in Dagster 1.13 but central to
# this design; the warning on every import would only hide the warnings that matter.
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)
