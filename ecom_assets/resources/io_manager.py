"""Dagster IO manager that stores polars DataFrames as Delta tables in the lake.

Partitioned assets declare their date column with ``metadata={"partition_expr": "<column>"}``; a run
replaces exactly its partitions in one commit (single partitions and ranged backfill runs alike), and
downstream assets read exactly the upstream partitions that their partition mapping asks for.
"""

import datetime as dt

import dagster as dg
import polars as pl

from ecom_assets.resources.lake import LakeResource


def table_key(asset_key: dg.AssetKey) -> str:
    return "/".join(asset_key.path)


def _partition_dates(keys) -> list[dt.date]:
    return [dt.date.fromisoformat(key) for key in keys]


def _partition_column(definition_metadata) -> str:
    column = (definition_metadata or {}).get("partition_expr")
    if column is None:
        raise dg.DagsterInvariantViolationError("partitioned Delta assets need metadata partition_expr")
    return column


class DeltaLakeIOManager(dg.ConfigurableIOManager):
    lake: dg.ResourceDependency[LakeResource]

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame) -> None:
        if obj is None:
            return
        lake = self.lake.get_lake()
        key = table_key(context.asset_key)
        metadata = {"table_uri": dg.MetadataValue.path(lake.table_uri(key))}
        if context.has_asset_partitions:
            column = _partition_column(context.definition_metadata)
            dates = sorted(_partition_dates(context.asset_partition_keys))
            lake.write_table(key, obj, column, dates)
            # A range run records one materialisation per day, each with the figures of the whole run.
            span = f"{dates[0]} .. {dates[-1]} ({len(dates)} days; figures cover them all)"
            metadata["partitions_in_run"] = span if len(dates) > 1 else str(dates[0])
        else:
            lake.write_table(key, obj)
        context.add_output_metadata(metadata)

    def load_input(self, context: dg.InputContext) -> pl.DataFrame:
        lake = self.lake.get_lake()
        key = table_key(context.asset_key)
        if not context.has_asset_partitions:
            return lake.read_table(key)
        column = _partition_column(context.upstream_output.definition_metadata)
        keys = context.asset_partition_keys
        if len(keys) == context.asset_partitions_def.get_num_partitions():
            return lake.read_table(key)
        return lake.read_table(key, column, _partition_dates(keys))
