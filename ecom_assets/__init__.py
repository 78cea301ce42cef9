"""E-commerce purchase propensity: one Dagster asset graph from raw events to a served model."""

import warnings

from dagster import BetaWarning, PreviewWarning

# Range runs (backfill_policy) and nonexistent-partition mappings are beta in Dagster 1.13 but central to
# this design; the warning on every import would only hide the warnings that matter.
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)
