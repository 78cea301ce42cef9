"""Materialisation metadata that lets the Dagster UI tell the story of a table."""

import dagster as dg
import polars as pl

_DAGSTER_TYPES = {pl.String: "string", pl.Date: "date", pl.Float64: "float", pl.Boolean: "bool"}


def column_schema(schema: pl.Schema) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name, _DAGSTER_TYPES.get(dtype, str(dtype))) for name, dtype in schema.items()
        ]
    )


def _as_text(name: str, dtype: pl.DataType) -> pl.Expr:
    if isinstance(dtype, pl.List):
        return pl.col(name).list.eval(pl.element().cast(pl.String)).list.join(", ")
    return pl.col(name).cast(pl.String)


def markdown_table(frame: pl.DataFrame, max_rows: int = 10, max_width: int = 40) -> dg.MetadataValue:
    shown = frame.head(max_rows).with_columns(
        _as_text(name, dtype).str.slice(0, max_width) for name, dtype in frame.schema.items()
    )
    header = "| " + " | ".join(frame.columns) + " |\n|" + "---|" * len(frame.columns) + "\n"
    rows = "".join(
        "| " + " | ".join("" if v is None else str(v) for v in row) + " |\n" for row in shown.rows()
    )
    return dg.MetadataValue.md(header + rows)


def table_metadata(frame: pl.DataFrame, **extra) -> dict:
    return {
        "dagster/row_count": frame.height,
        "dagster/column_schema": column_schema(frame.schema),
        "preview": markdown_table(frame, max_rows=5),
        **extra,
    }


def counts_by(frame: pl.DataFrame, column: str) -> dict[str, int]:
    counts = frame.group_by(column).len().sort("len", descending=True)
    return {str(key): count for key, count in counts.iter_rows()}
