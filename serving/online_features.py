"""The newest ``gold/customer_daily_features`` partition as an in-memory index for per-customer scoring.

The values are the ones the pipeline computed (no second implementation of any feature); customers
not in the partition get ``no_activity_features()``, the vector the pipeline itself defines for them.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import polars as pl

from ecom_assets.keys import CUSTOMER_DAILY_FEATURES
from ecom_assets.ml.dataset import feature_matrix
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.features import no_activity_features

PARTITION_COLUMN = "as_of_date"

log = logging.getLogger(__name__)


class FeaturesUnavailableError(LookupError):
    """The features table cannot give the model what it needs."""


@dataclass(frozen=True)
class FeatureIndex:
    """One partition: ``rows`` maps a customer id to its row in ``frame`` (the last one, if repeated)."""

    as_of: dt.date
    rows: dict[str, int]
    frame: pl.DataFrame

    def matrix(self, feature_names: list[str]) -> np.ndarray:
        """Every row, columns in the model's order, nulls as NaN (as in training), column by column: a tree
        reads a few features of every row, so ``predict_proba`` over the partition runs twice as fast on
        columns as on rows (with the same scores)."""
        missing = [name for name in feature_names if name not in self.frame.columns]
        if missing:
            raise FeaturesUnavailableError(
                f"{CUSTOMER_DAILY_FEATURES} as of {self.as_of} lacks features {missing}: rematerialise it"
            )
        return np.asfortranarray(feature_matrix(self.frame, feature_names))

    def __len__(self) -> int:
        return len(self.rows)


def features_version(lake: Lake) -> int | None:
    """The Delta version of the features table: it changes whenever a partition is (re)written."""
    return lake.table_version(CUSTOMER_DAILY_FEATURES) if lake.table_exists(CUSTOMER_DAILY_FEATURES) else None


def no_activity_vector(feature_names: list[str]) -> np.ndarray:
    defaults = no_activity_features()
    unknown = [name for name in feature_names if name not in defaults]
    if unknown:
        raise FeaturesUnavailableError(
            f"the model expects features {unknown} that the feature code does not define; retrain the model"
        )
    return np.array([defaults[name] for name in feature_names], dtype=np.float64)


def load_feature_index(lake: Lake) -> FeatureIndex:
    """Index the newest partition; raises ``FeaturesUnavailableError`` naming what lacks."""
    if not lake.table_exists(CUSTOMER_DAILY_FEATURES):
        raise FeaturesUnavailableError(f"table {CUSTOMER_DAILY_FEATURES} does not exist yet: materialise it")
    table = lake.scan_table(CUSTOMER_DAILY_FEATURES)
    as_of = table.select(pl.col(PARTITION_COLUMN).max()).collect().item()
    if as_of is None:
        raise FeaturesUnavailableError(f"{CUSTOMER_DAILY_FEATURES} has no rows yet: materialise a partition")
    frame = lake.read_table(CUSTOMER_DAILY_FEATURES, PARTITION_COLUMN, [as_of])
    customer_ids = frame["customer_id"].to_list()
    rows = dict(zip(customer_ids, range(len(customer_ids)), strict=True))
    if len(rows) != len(customer_ids):
        log.warning(
            "%s as of %s repeats %d customer ids; the last row of each is served",
            CUSTOMER_DAILY_FEATURES,
            as_of,
            len(customer_ids) - len(rows),
        )
    return FeatureIndex(as_of=as_of, rows=rows, frame=frame)
