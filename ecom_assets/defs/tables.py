"""What every Delta-table asset shares, stated once: its key from ``ecom_assets.keys`` and its arguments."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import polars as pl

from ecom_assets.defs.metadata import column_schema
from ecom_assets.defs.partitions import daily_partitions


def asset_key(table: str) -> dg.AssetKey:
    """The asset key of a table named in ``ecom_assets.keys``: ``gold/fact_events`` → [gold, fact_events]."""
    return dg.AssetKey(table.split("/"))


def daily_table(partition_column: str, schema: pl.Schema | None = None, **metadata) -> dict:
    """Asset arguments of a Delta table partitioned by day on ``partition_column``.

    One run may cover a single day or a whole range (single-run backfills); the IO manager replaces
    exactly those days. ``schema``: the columns of a table written as a ``TableStream``, stated once here
    rather than in the materialisation of every partition of a range run.
    """
    if schema is not None:
        metadata["dagster/column_schema"] = column_schema(schema)
    return {
        "partitions_def": daily_partitions,
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "metadata": {"partition_expr": partition_column, **metadata},
        "io_manager_key": "io_manager",
        "kinds": {"delta", "polars"},
    }


@dataclass(frozen=True)
class TableStream:
    """What an asset returns to have its table written frame by frame: one Delta commit, with a few frames
    in memory at a time. ``figures`` gives the metadata that only the whole stream knows, once it is written.
    ``committed`` then hears the table version that commit made, or None when there is none to name (the
    write failed, or replaced the whole table).
    """

    frames: Iterable[pl.DataFrame]
    schema: pl.Schema
    figures: Callable[[], dict[str, Any]] = field(default=dict)
    committed: Callable[[int | None], None] = field(default=lambda version: None)
