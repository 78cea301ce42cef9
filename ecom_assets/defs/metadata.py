"""Materialisation metadata that lets the Dagster UI tell the story of a table."""

from collections.abc import Iterable, Iterator

import dagster as dg
import polars as pl

_DAGSTER_TYPES: dict[pl.DataType, str] = {
    pl.String(): "string",
    pl.Date(): "date",
    pl.Float64(): "float",
    pl.Boolean(): "bool",
}


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


def figure(frame: pl.DataFrame, expression: pl.Expr) -> float:
    """One number of a frame for the metadata (an empty frame's null counts as 0)."""
    return float(frame.select(expression).item() or 0.0)


PREVIEW_ROWS = 5


def table_metadata(frame: pl.DataFrame, **extra) -> dict:
    return {
        "dagster/row_count": frame.height,
        "dagster/column_schema": column_schema(frame.schema),
        "preview": markdown_table(frame, max_rows=PREVIEW_ROWS),
        **extra,
    }


class StreamTally:
    """Counts the rows of frames as they pass to the writer and keeps the first few for the preview."""

    def __init__(self, schema: pl.Schema):
        self.rows = 0
        self.head = schema.to_frame()

    def watch(self, frames: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        for frame in frames:
            self.rows += frame.height
            if self.head.height < PREVIEW_ROWS:
                first_rows = frame.head(PREVIEW_ROWS).select(self.head.columns).cast(self.head.schema)
                self.head = pl.concat([self.head, first_rows])
            yield frame

    def metadata(self) -> dict:
        """Row count and preview (the schema of a streamed table is its definition's: ``daily_table``)."""
        return {"dagster/row_count": self.rows, "preview": markdown_table(self.head, max_rows=PREVIEW_ROWS)}
