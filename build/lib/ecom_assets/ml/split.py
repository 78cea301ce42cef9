"""Honest validation: train on earlier as-of dates, validate on later ones, with a gap between them.

The label of as-of date t reads purchases in t+1 .. t+7, so training rows carry information up to the
last training date + 7. Validation starts only after that, so no validation label window overlaps
training. With too few dates for that, customers (not rows) are split, so nobody is on both sides.
"""

from dataclasses import dataclass

import numpy as np
import polars as pl

from ecom_assets.transforms.labels import LABEL_HORIZON_DAYS

MIN_TRAIN_DATES = 3
VALIDATION_SHARE = 0.25


@dataclass(frozen=True)
class Split:
    train: pl.DataFrame
    validation: pl.DataFrame
    kind: str  # "time" or "customer"

    def window(self, side: str) -> tuple:
        dates = getattr(self, side)["as_of_date"]
        return dates.min(), dates.max()


def time_split(frame: pl.DataFrame, gap_days: int = LABEL_HORIZON_DAYS) -> Split | None:
    """Last quarter of the dates validates; None when fewer than MIN_TRAIN_DATES remain before the gap."""
    dates = sorted(frame["as_of_date"].unique())
    n_validation = max(1, round(len(dates) * VALIDATION_SHARE))
    first_validation = dates[-n_validation]
    train_dates = [day for day in dates if (first_validation - day).days >= gap_days]
    if len(train_dates) < MIN_TRAIN_DATES:
        return None
    return Split(
        train=frame.filter(pl.col("as_of_date").is_in(train_dates)),
        validation=frame.filter(pl.col("as_of_date") >= first_validation),
        kind="time",
    )


def customer_split(frame: pl.DataFrame, seed: int = 0) -> Split:
    """A fixed share of customers, with all their dates, goes to validation."""
    customers = frame["customer_id"].unique().sort().to_numpy()
    rng = np.random.default_rng(seed)
    n_validation = max(1, round(len(customers) * VALIDATION_SHARE))
    held_out = pl.Series(rng.choice(customers, size=n_validation, replace=False))
    in_validation = pl.col("customer_id").is_in(held_out.implode())
    return Split(train=frame.filter(~in_validation), validation=frame.filter(in_validation), kind="customer")


def split(frame: pl.DataFrame) -> Split:
    return time_split(frame) or customer_split(frame)
