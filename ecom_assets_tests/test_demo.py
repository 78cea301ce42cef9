"""`ecom demo`, the README's first command, from an empty lake and Dagster home to its last word."""

import os
import subprocess
import sys
from pathlib import Path

from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.operations.demo import TABLES
from ecom_assets.storage.lake import Lake

ECOM = Path(sys.executable).with_name("ecom")
SECTIONS = (
    "1. Simulate web/app events",
    "2. Materialise the asset graph up to the drift",
    "3. The drifted days land",
    "4. Drift on",
    "5. Shadow period",
    "6. Promotion on evidence",
    "Where to look",
)


def test_the_demo_runs_the_whole_loop_and_fills_every_table():
    demo = subprocess.run(
        [str(ECOM), "demo"], env=os.environ | {"COLUMNS": "200"}, capture_output=True, text=True, timeout=900
    )

    assert demo.returncode == 0, demo.stderr[-3000:]
    missing = [section for section in SECTIONS if section not in demo.stdout]
    assert not missing, f"sections not printed: {missing}\n{demo.stdout[-3000:]}"
    assert "Traceback" not in demo.stderr
    lake = Lake(os.environ["ECOM_LAKE_URI"])
    empty = [
        key
        for key in TABLES
        if not lake.table_exists(key) or lake.scan_table(key).head(1).collect().is_empty()
    ]
    assert not empty, f"tables the demo left empty: {empty}"
    assert ModelRegistry(lake).champion_version() is not None
    runs = subprocess.run(
        [sys.executable, "-c", "import dagster as dg; print(len(dg.DagsterInstance.get().get_runs()))"],
        capture_output=True,
        text=True,
    )
    assert int(runs.stdout.split()[-1]) > 10, "the demo's runs are in the instance the UI reads"
