"""The training set: features of D joined with the label of D, for as-of dates whose labels are complete."""

import datetime as dt
import hashlib

import numpy as np
import polars as pl

from ecom_assets.keys import CUSTOMER_DAILY_FEATURES, LABEL_PURCHASE_NEXT_7D
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.features import FEATURE_NAMES
from ecom_assets.transforms.labels import LABEL

KEYS = ["customer_id", "as_of_date"]


def labelled_dates(lake: Lake, last: dt.date | None = None) -> list[dt.date]:
    """As-of dates with a label partition (which Dagster only allows once D+1 .. D+7 exist), oldest first."""
    dates = lake.scan_table(LABEL_PURCHASE_NEXT_7D).select("as_of_date").unique().collect()["as_of_date"]
    return sorted(day for day in dates if last is None or day <= last)


def load_training_set(lake: Lake, as_of_dates: list[dt.date]) -> pl.DataFrame:
    """Features joined with labels; a feature row without its label means an inconsistent lake and fails."""
    features = lake.read_table(CUSTOMER_DAILY_FEATURES, "as_of_date", as_of_dates)
    labels = lake.read_table(LABEL_PURCHASE_NEXT_7D, "as_of_date", as_of_dates).select(*KEYS, LABEL)
    joined = features.join(labels, on=KEYS, how="left")
    missing = joined.filter(pl.col(LABEL).is_null())
    if missing.height:
        stale = sorted(set(missing["as_of_date"]))
        raise ValueError(
            f"{missing.height} feature rows have no label for as-of dates {stale[:5]}: re-materialise "
            f"{LABEL_PURCHASE_NEXT_7D} for those partitions"
        )
    return joined.sort(KEYS)


def feature_matrix(frame: pl.DataFrame, feature_names: list[str] = FEATURE_NAMES) -> np.ndarray:
    missing = [name for name in feature_names if name not in frame.columns]
    if missing:
        raise ValueError(f"feature columns {missing} are missing: re-materialise {CUSTOMER_DAILY_FEATURES}")
    return frame.select(feature_names).to_numpy().astype(np.float64)


def fingerprint(frame: pl.DataFrame) -> str:
    """SHA-256 of the training rows in a canonical order and text form, so identical data gives one value."""
    canonical = frame.select(*KEYS, *FEATURE_NAMES, LABEL).sort(KEYS).write_csv()
    return hashlib.sha256(canonical.encode()).hexdigest()
