"""The code location: everything in the ``ecom_assets/defs`` folder, loaded the ``dg`` way."""

import warnings
from pathlib import Path

import dagster as dg

# Range runs (backfill_policy) and nonexistent-partition mappings are beta in Dagster 1.13 but central to
# this design; the warning on every use would only hide the warnings that matter. Set here, outside the
# loader, whose own warning filters end with it.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
