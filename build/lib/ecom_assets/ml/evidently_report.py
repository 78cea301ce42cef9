"""evidently's data drift page for one day, computed with our PSI so the page and the PSI table agree.

Our PSI (reference-decile bins, ``ecom_assets.ml.psi``) is registered with evidently as a stat test;
evidently draws the distributions and the per-feature verdicts. The page samples at most
``HTML_MAX_ROWS`` rows per side to stay quick, so its figures can differ slightly from the table's,
which always uses every row.
"""

from functools import cache

import pandas as pd
import polars as pl

from ecom_assets.ml.psi import PsiThresholds, psi

HTML_MAX_ROWS = 20_000
STAT_TEST_NAME = "psi_reference_deciles"


def _psi_of_series(
    reference: pd.Series, current: pd.Series, feature_type, threshold: float
) -> tuple[float, bool]:
    value = psi(pl.DataFrame({"x": reference.to_numpy()}), pl.DataFrame({"x": current.to_numpy()}))["x"]
    return value, value >= threshold


@cache
def _register_stat_test() -> None:
    from evidently.legacy.calculations.stattests.registry import StatTest, register_stattest
    from evidently.legacy.core import ColumnType

    stat_test = StatTest(
        name=STAT_TEST_NAME,
        display_name="PSI (reference deciles)",
        allowed_feature_types=[ColumnType.Numerical],
        default_threshold=0.2,
    )
    register_stattest(stat_test, _psi_of_series)


def _sample(frame: pl.DataFrame) -> pd.DataFrame:
    return (frame.sample(HTML_MAX_ROWS, seed=0) if frame.height > HTML_MAX_ROWS else frame).to_pandas()


def drift_report_html(reference: pl.DataFrame, current: pl.DataFrame, thresholds: PsiThresholds) -> bytes:
    """A self-contained HTML page comparing the reference's columns in ``current`` with the reference."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    _register_stat_test()
    columns = reference.columns
    definition = DataDefinition(numerical_columns=columns)
    snapshot = Report([DataDriftPreset(method=STAT_TEST_NAME, threshold=thresholds.alert)]).run(
        Dataset.from_pandas(_sample(current.select(columns)), data_definition=definition),
        Dataset.from_pandas(_sample(reference), data_definition=definition),
    )
    return snapshot.get_html_str(as_iframe=False).encode()
