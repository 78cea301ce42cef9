"""The rows of a CSV (plain or gzip) or Parquet file, streamed with the number a person finds them by.

A CSV row's number is the line it starts on (the header is line 1); a Parquet row's is its position
(the first row is 1). CSV values are text; Parquet values are what the column holds (numbers, times).
"""

import csv
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from ecom_assets.events.importing import open_text

PARQUET_BATCH_ROWS = 20_000
PROGRESS_EVERY_ROWS = 20_000


# What a damaged file raises part-way (a truncated gzip, a corrupt Parquet page, an oversized CSV field).
READ_ERRORS = (OSError, EOFError, csv.Error, pa.ArrowException)


@dataclass
class TableRows:
    columns: list[str]
    rows: Iterator[tuple[int, list | tuple]]  # (row number, values in column order)


def _csv_rows(reader, advance: Callable[[], None]) -> Iterator[tuple[int, list]]:
    start = reader.line_num + 1
    for count, values in enumerate(reader, start=1):
        if values:  # a blank line is no row
            yield start, values
        start = reader.line_num + 1
        if count % PROGRESS_EVERY_ROWS == 0:
            advance()
    advance()


def _readable(path: Path, rows: Iterator[tuple[int, list | tuple]]) -> Iterator[tuple[int, list | tuple]]:
    """The rows, and a file that breaks off as a one-line error naming it."""
    try:
        yield from rows
    except READ_ERRORS as error:
        raise ValueError(f"{path}: unreadable after its first rows ({error})") from None


@contextmanager
def _csv_table(path: Path, advance: Callable[[int], None]) -> Iterator[TableRows]:
    with open_text(path) as (text, raw):
        reader = csv.reader(text)
        try:
            header = next(reader, None)
        except READ_ERRORS as error:
            raise ValueError(f"{path}: not a readable CSV file ({error})") from None
        if not header:
            raise ValueError(f"{path}: no header line; the first line must name the columns")
        columns = [name.strip() for name in [header[0].lstrip("\ufeff"), *header[1:]]]
        yield TableRows(columns, _readable(path, _csv_rows(reader, lambda: advance(raw.tell()))))


def _parquet_rows(
    file: pq.ParquetFile, size: int, advance: Callable[[int], None]
) -> Iterator[tuple[int, tuple]]:
    number, total = 0, max(file.metadata.num_rows, 1)
    for batch in file.iter_batches(batch_size=PARQUET_BATCH_ROWS):
        for values in zip(*(column.to_pylist() for column in batch.columns), strict=True):
            number += 1
            yield number, values
        advance(size * number // total)


@contextmanager
def _parquet_table(path: Path, advance: Callable[[int], None]) -> Iterator[TableRows]:
    try:
        file = pq.ParquetFile(path)
    except pa.ArrowException as error:
        raise ValueError(f"{path}: not a readable Parquet file ({error})") from None
    with file:
        rows = _parquet_rows(file, path.stat().st_size, advance)
        yield TableRows(file.schema_arrow.names, _readable(path, rows))


def open_table(path: Path, advance: Callable[[int], None]) -> AbstractContextManager[TableRows]:
    """A context giving the file's columns and its rows; ``advance`` is called with the bytes done."""
    if path.name.endswith((".csv", ".csv.gz")):
        return _csv_table(path, advance)
    if path.name.endswith(".parquet"):
        return _parquet_table(path, advance)
    raise ValueError(f"{path}: not a .csv, .csv.gz or .parquet file")
