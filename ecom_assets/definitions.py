"""The code location: everything in the ``ecom_assets/defs`` folder, loaded the ``dg`` way."""

from pathlib import Path

import dagster as dg

defs = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
