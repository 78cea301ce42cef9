"""Fail a CI job when a day's drift report is at alert, with GitHub annotations naming what drifted.

    python -m ecom_assets.operations.drift_check [--date YYYY-MM-DD]   (default: yesterday, UTC)

Exit 0 when the worst status is ok or warn, 1 on alert, 2 when there is no report for that day.
"""

import argparse
import datetime as dt
import os
import sys

import polars as pl

from ecom_assets.keys import DRIFT_REPORT
from ecom_assets.ml.drift import report_path
from ecom_assets.ml.psi import worst_status
from ecom_assets.storage.lake import Lake, TableNotFoundError

LEVELS = {"alert": "error", "warn": "warning"}


def annotations(drift: pl.DataFrame) -> list[str]:
    """One workflow command per drifted feature or score, worst first."""
    drifted = drift.filter(pl.col("status").is_in(list(LEVELS))).sort("psi", descending=True)
    return [
        f"::{LEVELS[row['status']]} title=Drift {row['status']} on {row['name']}::"
        f"{row['kind']} {row['name']} has PSI {row['psi']:.3f} on {row['as_of_date']} "
        f"against model {row['model_version']}"
        for row in drifted.iter_rows(named=True)
    ]


def summary(drift: pl.DataFrame, day: dt.date, lake: Lake) -> str:
    rows = "".join(
        f"| {row['kind']} | {row['name']} | {row['psi']:.4f} | {row['status']} |\n"
        for row in drift.sort("psi", descending=True).iter_rows(named=True)
    )
    return (
        f"## Drift {day}: {worst_status(drift['status'])}\n\nReport: `{lake.uri}/{report_path(day)}`\n\n"
        f"| kind | name | PSI | status |\n|---|---|---|---|\n{rows}"
    )


def check(day: dt.date, lake: Lake) -> int:
    try:
        drift = lake.read_table(DRIFT_REPORT, "as_of_date", [day])
    except TableNotFoundError:
        drift = pl.DataFrame()
    if drift.height == 0:
        print(f"::error title=No drift report::{DRIFT_REPORT} has no rows for {day}: materialise it first")
        return 2
    for line in annotations(drift):
        print(line)
    text = summary(drift, day, lake)
    print(text)
    if "GITHUB_STEP_SUMMARY" in os.environ:
        with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
            handle.write(text)
    return 1 if worst_status(drift["status"]) == "alert" else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="drift_check", description=__doc__.splitlines()[0])
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    parser.add_argument(
        "--date", type=dt.date.fromisoformat, default=yesterday, help="as-of date (YYYY-MM-DD)"
    )
    return check(parser.parse_args(argv).date, Lake.from_settings())


if __name__ == "__main__":
    sys.exit(main())
