"""Population Stability Index (PSI) for every feature at once.

PSI = sum over bins of (ref_share - cur_share) * ln(ref_share / cur_share).

The binning is defined here, once, and used by the drift report, the tests and the bench:

* the bins are the quantiles of the **reference** (``DEFAULT_BINS`` = 10, i.e. deciles), taken from a
  fixed-seed sample of ``QUANTILE_SAMPLE_ROWS`` (100,000) rows when the reference is larger, the same
  cap the model registry puts on a stored reference (bin counts always use every row);
* a value at which several quantiles coincide (a point mass, like the zeros of a count feature) gets
  a bin of its own, so a zero-heavy feature is binned as below / exactly / above that value instead
  of collapsing into one bin that cannot show drift;
* the outer edges are open (-inf and +inf), so current values outside the reference range fall into
  the first or last bin instead of being lost;
* a value equal to an edge belongs to the bin above it ([low, high), as in ``numpy.histogram``);
* missing values (null or NaN) get a bin of their own, so a rise in missing values shows as drift;
* a bin empty on one side counts with a share of ``EMPTY_BIN_SHARE`` (1e-4), or a millionth of the
  smallest non-empty share of that side when that is smaller still, so one empty bin gives a large
  but finite PSI; this is evidently's rule, so both tools agree to floating-point precision on the
  same bins; a bin empty on both sides contributes nothing.

Quantiles and bin counts are each one polars query over all columns, which is what keeps a
1M-row, 30-feature comparison well under a second (``bench/drift.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

DEFAULT_BINS = 10
QUANTILE_SAMPLE_ROWS = 100_000
EMPTY_BIN_SHARE = 1e-4
# A date whose PSI means nothing yet (warm-up, or before the champion's data) ranks below "ok": any real
# status of another date outranks it, and it never triggers retraining.
INSUFFICIENT_HISTORY = "insufficient_history"
STATUSES = (INSUFFICIENT_HISTORY, "ok", "warn", "alert")


@dataclass(frozen=True)
class PsiThresholds:
    """PSI at or above ``warn`` is worth a look; at or above ``alert`` the model should be retrained."""

    warn: float = 0.1
    alert: float = 0.2

    def __post_init__(self):
        if not 0 <= self.warn <= self.alert:
            raise ValueError(
                f"PSI thresholds need 0 <= warn <= alert, got warn={self.warn} alert={self.alert}"
            )

    def status(self, psi: float) -> str:
        if psi >= self.alert:
            return "alert"
        return "warn" if psi >= self.warn else "ok"


DEFAULT_THRESHOLDS = PsiThresholds()


def worst_status(statuses: Iterable[str]) -> str:
    return max(statuses, key=STATUSES.index, default="ok")


def _numeric(frame: pl.DataFrame, columns: Sequence[str], side: str) -> pl.DataFrame:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"PSI: the {side} data has no column(s) {missing}; compare frames with the same features"
        )
    if frame.height == 0:
        raise ValueError(f"PSI: the {side} data has no rows; there is nothing to compare")
    wrong = [column for column in columns if not frame.schema[column].is_numeric()]
    if wrong:
        raise ValueError(f"PSI: {side} column(s) {wrong} are not numeric; PSI here is for numeric features")
    # NaN and null are both "missing" and share the missing-value bin.
    return frame.select(pl.col(column).cast(pl.Float64).fill_nan(None) for column in columns)


def quantile_edges(reference: pl.DataFrame, bins: int = DEFAULT_BINS) -> dict[str, np.ndarray]:
    """Inner bin edges per column: the distinct 1/bins .. (bins-1)/bins quantiles of the reference, and
    the edge that closes each point mass."""
    if bins < 2:
        raise ValueError(f"PSI needs at least 2 bins, got {bins}")
    values = _numeric(reference, reference.columns, "reference")
    if values.height > QUANTILE_SAMPLE_ROWS:
        values = values.sample(QUANTILE_SAMPLE_ROWS, seed=0)
    levels = [step / bins for step in range(1, bins)]
    row = values.select(
        pl.col(column).quantile(level, "linear").alias(f"{column}\x00{index}")
        for column in values.columns
        for index, level in enumerate(levels)
    ).row(0)
    per_column = np.array(row, dtype=np.float64).reshape(len(values.columns), len(levels))
    return {
        column: _merge_quantiles(quantiles)
        for column, quantiles in zip(values.columns, per_column, strict=True)
    }


def _merge_quantiles(quantiles: np.ndarray) -> np.ndarray:
    distinct, repeats = np.unique(quantiles[~np.isnan(quantiles)], return_counts=True)
    # [v, next float after v) holds exactly v: the point mass gets its own bin.
    just_above_point_masses = np.nextafter(distinct[repeats > 1], np.inf)
    return np.union1d(distinct, just_above_point_masses)


def bin_counts(frame: pl.DataFrame, edges: Mapping[str, np.ndarray], side: str) -> dict[str, np.ndarray]:
    """Rows per bin for each column: [below edge 1, ..., at or above the last edge, missing]."""
    values = _numeric(frame, list(edges), side)
    # Counting "at or above each edge" is one vectorised reduction per edge; bins are their differences.
    row = values.select(
        *(pl.col(column).is_not_null().sum().alias(f"{column}\x00n") for column in edges),
        *(
            (pl.col(column) >= float(edge)).sum().alias(f"{column}\x00{index}")
            for column, column_edges in edges.items()
            for index, edge in enumerate(column_edges)
        ),
    ).row(0, named=True)
    counts = {}
    for column, column_edges in edges.items():
        at_or_above = [
            row[f"{column}\x00n"],
            *(row[f"{column}\x00{index}"] for index in range(len(column_edges))),
        ]
        present = np.append(-np.diff(at_or_above), at_or_above[-1])
        counts[column] = np.append(present, frame.height - at_or_above[0]).astype(np.int64)
    return counts


def _shares(counts: np.ndarray) -> np.ndarray:
    shares = counts / counts.sum()
    smallest = shares[counts > 0].min()
    fill = smallest / 1e6 if smallest <= EMPTY_BIN_SHARE else EMPTY_BIN_SHARE
    return np.where(counts == 0, fill, shares)


def psi_from_counts(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    used = (reference_counts > 0) | (current_counts > 0)
    reference, current = _shares(reference_counts[used]), _shares(current_counts[used])
    return float(np.sum((reference - current) * np.log(reference / current)))


def psi(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    edges: Mapping[str, np.ndarray] | None = None,
    bins: int = DEFAULT_BINS,
) -> dict[str, float]:
    """PSI per reference column; ``edges`` overrides the reference quantile bins (used to compare tools)."""
    edges = dict(edges) if edges is not None else quantile_edges(reference, bins)
    reference_counts = bin_counts(reference, edges, "reference")
    current_counts = bin_counts(current, edges, "current")
    return {column: psi_from_counts(reference_counts[column], current_counts[column]) for column in edges}


def psi_table(
    reference: pl.DataFrame,
    current: pl.DataFrame,
    thresholds: PsiThresholds = DEFAULT_THRESHOLDS,
    bins: int = DEFAULT_BINS,
) -> pl.DataFrame:
    """One row per reference column: ``feature``, ``psi``, ``status``; most drifted first."""
    values = psi(reference, current, bins=bins)
    return pl.DataFrame(
        {
            "feature": list(values),
            "psi": list(values.values()),
            "status": [thresholds.status(value) for value in values.values()],
        },
        schema={"feature": pl.String, "psi": pl.Float64, "status": pl.String},
    ).sort("psi", "feature", descending=[True, False])
