"""PSI speed: our vectorised PSI against evidently's on the same data (default 1M rows x 30 features).

    .venv/bin/python bench/drift.py [--rows 1000000] [--reference-rows N] [--features 30] [--repeats 3]

``--reference-rows 100000`` gives the production shape: the registry keeps at most 100k reference rows.

Prints the best-of-N wall time of each, the ratios, and the largest difference between our values
and evidently's when both use evidently's bins (they should agree to floating-point precision).
"""

import argparse
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np
import polars as pl


def make_data(reference_rows: int, rows: int, features: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Reference and current samples; a third of the current features drift by varying amounts."""
    rng = np.random.default_rng(42)
    names = [f"feature_{index:02d}" for index in range(features)]
    reference = pl.DataFrame(rng.lognormal(0.0, 1.0, size=(reference_rows, features)), schema=names)
    shift = np.where(np.arange(features) % 3 == 0, np.linspace(0.0, 0.6, features), 0.0)
    current = pl.DataFrame(rng.lognormal(shift, 1.0, size=(rows, features)), schema=names)
    return reference, current


T = TypeVar("T")


def best_time(function: Callable[[], T], repeats: int) -> tuple[float, T]:
    times, results = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        results.append(function())
        times.append(time.perf_counter() - started)
    return min(times), results[-1]


def evidently_report(reference: pl.DataFrame, current: pl.DataFrame) -> dict[str, float]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift

    definition = DataDefinition(numerical_columns=reference.columns)
    snapshot = Report([ValueDrift(column=column, method="psi") for column in reference.columns]).run(
        Dataset.from_pandas(current.to_pandas(), data_definition=definition),
        Dataset.from_pandas(reference.to_pandas(), data_definition=definition),
    )
    return {metric["config"]["column"]: metric["value"] for metric in snapshot.dict()["metrics"]}


def evidently_stattest(reference: pl.DataFrame, current: pl.DataFrame) -> dict[str, float]:
    from evidently.legacy.calculations.stattests.psi import psi_stat_test
    from evidently.legacy.core import ColumnType

    reference_pandas, current_pandas = reference.to_pandas(), current.to_pandas()
    return {
        column: psi_stat_test(
            reference_pandas[column], current_pandas[column], ColumnType.Numerical, 0.1
        ).drift_score
        for column in reference.columns
    }


def evidently_bins(reference: pl.DataFrame, current: pl.DataFrame) -> dict[str, np.ndarray]:
    """Inner edges of evidently's numeric binning: Sturges' rule over both samples together."""
    both = pl.concat([reference, current])
    return {
        column: np.histogram_bin_edges(both[column], bins="sturges")[1:-1] for column in reference.columns
    }


def main() -> None:
    from ecom_assets.ml.psi import psi, psi_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--reference-rows", type=int, default=None, help="default: --rows")
    parser.add_argument("--features", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    reference_rows = args.reference_rows or args.rows
    reference, current = make_data(reference_rows, args.rows, args.features)
    print(f"{reference_rows:,} reference rows and {args.rows:,} current rows x {args.features} features")
    ours, table = best_time(lambda: psi_table(reference, current), args.repeats)
    edges = evidently_bins(reference, current)
    ours_same_bins, same_bins = best_time(lambda: psi(reference, current, edges=edges), args.repeats)
    report, report_values = best_time(lambda: evidently_report(reference, current), 1)
    stattest, stattest_values = best_time(lambda: evidently_stattest(reference, current), args.repeats)

    difference = max(abs(same_bins[column] - report_values[column]) for column in reference.columns)
    stat_test_difference = max(
        abs(same_bins[column] - stattest_values[column]) for column in reference.columns
    )
    for label, seconds in [
        ("ours, reference-decile bins (production path)", ours),
        ("ours, given evidently's bins (made beforehand)", ours_same_bins),
        ("evidently Report(ValueDrift(method='psi'))", report),
        ("evidently psi stat test, column by column", stattest),
    ]:
        ratio = f"{seconds / ours:7.1f}x our time" if label.startswith("evidently") else ""
        print(f"{label:<48}{seconds:8.3f} s  {ratio}".rstrip())
    print(f"same bins, largest |ours - evidently|: {difference:.2e} (stat test: {stat_test_difference:.2e})")
    alerts = table.filter(pl.col("status") == "alert").height
    print(f"alerts (PSI >= 0.2) on our bins: {alerts} of {args.features}")


if __name__ == "__main__":
    main()
