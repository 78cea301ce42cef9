"""PSI: the binning rules, the thresholds, and agreement with evidently on the same data and bins."""

import numpy as np
import pandas as pd
import polars as pl
import pytest
from evidently import DataDefinition, Dataset, Report
from evidently.legacy.calculations.stattests.psi import psi_stat_test
from evidently.legacy.core import ColumnType
from evidently.metrics import ValueDrift

from ecom_assets.ml.psi import (
    PsiThresholds,
    bin_counts,
    psi,
    psi_from_counts,
    psi_table,
    quantile_edges,
    worst_status,
)


@pytest.fixture
def samples() -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(1)
    reference = pl.DataFrame(
        {
            "stable": rng.normal(size=12_000),
            "shifted": rng.normal(size=12_000),
            "skewed": rng.exponential(size=12_000),
            "narrowed": rng.uniform(0, 10, size=12_000),
            "heavy_tail": rng.lognormal(0, 0.5, size=12_000),
        }
    )
    current = pl.DataFrame(
        {
            "stable": rng.normal(size=1500),
            "shifted": rng.normal(0.5, 1.3, size=1500),
            "skewed": rng.exponential(2.0, size=1500),
            "narrowed": rng.uniform(6, 10, size=1500),  # leaves the lower bins empty
            "heavy_tail": rng.lognormal(0.3, 0.5, size=1500),  # tail bins with shares below 1e-4
        }
    )
    return reference, current


def test_identical_data_has_zero_psi(samples):
    reference, _ = samples
    assert all(value == pytest.approx(0.0, abs=1e-12) for value in psi(reference, reference).values())


def test_deciles_of_the_reference():
    reference = pl.DataFrame({"x": np.arange(1, 1002, dtype=float)})
    assert quantile_edges(reference)["x"].tolist() == [float(value) for value in range(101, 1001, 100)]


def test_a_point_mass_gets_its_own_bin_so_zero_heavy_features_can_drift():
    reference = pl.DataFrame({"purchases": [0.0] * 95 + [1.0, 1.0, 2.0, 3.0, 9.0]})
    current = pl.DataFrame({"purchases": [0.0] * 70 + [1.0] * 30})
    edges = quantile_edges(reference)
    assert bin_counts(current, edges, "current")["purchases"].tolist() == [
        0,
        70,
        30,
        0,
    ]  # <0, ==0, >0, missing
    assert psi(reference, current)["purchases"] > 0.2


def test_open_edges_and_missing_values_are_counted_not_dropped():
    reference = pl.DataFrame({"price": [float(value) for value in range(1, 101)]})
    current = pl.DataFrame({"price": [-50.0, 0.5, 100.0, 10_000.0, None, float("nan")]})
    counts = bin_counts(current, quantile_edges(reference), "current")["price"]
    assert counts.sum() == current.height
    assert counts[0] == 2 and counts[-2] == 2  # below / above the reference range
    assert counts[-1] == 2  # null and NaN share the missing-value bin


def test_a_rise_in_missing_values_is_drift():
    reference = pl.DataFrame({"x": np.arange(1000, dtype=float)})
    current = pl.DataFrame({"x": [*np.arange(0, 1000, 2, dtype=float), *[None] * 500]})
    assert psi(reference, current)["x"] > 0.2


def test_table_is_sorted_by_drift_with_status(samples):
    table = psi_table(*samples, thresholds=PsiThresholds(warn=0.1, alert=0.2))
    assert table["psi"].to_list() == sorted(table["psi"].to_list(), reverse=True)
    statuses = dict(zip(table["feature"], table["status"], strict=True))
    assert statuses["stable"] == "ok" and statuses["narrowed"] == "alert"


def test_thresholds_and_worst_status():
    thresholds = PsiThresholds(warn=0.1, alert=0.25)
    assert [thresholds.status(value) for value in (0.0, 0.1, 0.2, 0.25)] == ["ok", "warn", "warn", "alert"]
    assert worst_status(["ok", "alert", "warn"]) == "alert"
    assert worst_status([]) == "ok"
    # a warm-up date's status never outranks a real one, and alone it stays what it is
    assert worst_status(["insufficient_history", "ok"]) == "ok"
    assert worst_status(["insufficient_history"]) == "insufficient_history"
    with pytest.raises(ValueError, match="warn <= alert"):
        PsiThresholds(warn=0.3, alert=0.2)


def test_bad_input_names_the_column(samples):
    reference, current = samples
    with pytest.raises(ValueError, match=r"current data has no column\(s\) \['skewed'\]"):
        psi(reference, current.drop("skewed"))
    with pytest.raises(ValueError, match="not numeric"):
        psi(reference.with_columns(stable=pl.lit("a")), current)


def test_matches_evidently_report_on_evidently_bins(samples):
    """evidently bins numeric columns by Sturges' rule over both samples; given those bins we agree."""
    reference, current = samples
    both = pl.concat([reference, current])
    edges = {
        column: np.histogram_bin_edges(both[column], bins="sturges")[1:-1] for column in reference.columns
    }
    definition = DataDefinition(numerical_columns=reference.columns)
    snapshot = Report([ValueDrift(column=column, method="psi") for column in reference.columns]).run(
        Dataset.from_pandas(current.to_pandas(), data_definition=definition),
        Dataset.from_pandas(reference.to_pandas(), data_definition=definition),
    )
    theirs = {metric["config"]["column"]: metric["value"] for metric in snapshot.dict()["metrics"]}
    ours = psi(reference, current, edges=edges)
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-9)
    # The data covers strong drift, bins empty on one side and shares below 1e-4, not just noise.
    tail = bin_counts(reference, edges, "reference")["heavy_tail"][:-1]
    assert max(ours.values()) > 1 and tail.min() == 1 and tail.sum() > 10_000


def test_a_bin_empty_on_both_sides_contributes_nothing():
    """The one place where we differ from evidently, which adds (a - b) ln(a / b) of its two fill values."""
    reference, current = np.array([20_000, 1]), np.array([1500, 0])
    with_unused_bin = psi_from_counts(np.append(reference, 0), np.append(current, 0))
    assert with_unused_bin == psi_from_counts(reference, current) > 0


def test_matches_evidently_psi_on_our_quantile_bins(samples):
    """Fed our bin numbers as categories, evidently's PSI test gives exactly our values."""
    reference, current = samples
    edges = quantile_edges(reference)

    def bin_labels(frame: pl.DataFrame, column: str) -> pd.Series:
        return pd.Series(np.searchsorted(edges[column], frame[column].to_numpy(), side="right"))

    theirs = {
        column: psi_stat_test(
            bin_labels(reference, column), bin_labels(current, column), ColumnType.Categorical, 0.1
        ).drift_score
        for column in reference.columns
    }
    assert psi(reference, current) == pytest.approx(theirs, rel=1e-9, abs=1e-9)
