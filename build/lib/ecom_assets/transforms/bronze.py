"""Landing files to Bronze rows: every line exactly as it came, plus where and when it arrived."""

import datetime as dt

import polars as pl

from ecom_assets.events.landing import list_landing_files, read_landing_lines
from ecom_assets.events.schema import BRONZE_SCHEMA
from ecom_assets.storage.lake import Lake


def bronze_lines(
    lines: list[str], arrival_date: dt.date, source_file: str, landed_at: dt.datetime
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "raw": lines,
            "arrival_date": arrival_date,
            "source_file": source_file,
            "line_number": pl.int_range(1, len(lines) + 1, eager=True),
            "landed_at": landed_at,
        },
        schema=BRONZE_SCHEMA,
    )


def read_landing_partition(lake: Lake, arrival_date: dt.date) -> pl.DataFrame:
    """All landing files of one arrival date as Bronze rows (empty when nothing has landed)."""
    frames = [
        bronze_lines(read_landing_lines(lake, path), arrival_date, path, lake.modified(path))
        for path in list_landing_files(lake, arrival_date)
    ]
    return pl.concat(frames) if frames else BRONZE_SCHEMA.to_frame()
