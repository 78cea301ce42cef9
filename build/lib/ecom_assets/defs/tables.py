"""What every Delta-table asset shares, stated once: its key from ``ecom_assets.keys`` and its arguments."""

import dagster as dg

from ecom_assets.defs.partitions import daily_partitions


def asset_key(table: str) -> dg.AssetKey:
    """The asset key of a table named in ``ecom_assets.keys``: ``gold/fact_events`` → [gold, fact_events]."""
    return dg.AssetKey(table.split("/"))


def daily_table(partition_column: str, **metadata) -> dict:
    """Asset arguments of a Delta table partitioned by day on ``partition_column``.

    One run may cover a single day or a whole range (single-run backfills); the IO manager replaces
    exactly those days.
    """
    return {
        "partitions_def": daily_partitions,
        "backfill_policy": dg.BackfillPolicy.single_run(),
        "metadata": {"partition_expr": partition_column, **metadata},
        "io_manager_key": "io_manager",
        "kinds": {"delta", "polars"},
    }
