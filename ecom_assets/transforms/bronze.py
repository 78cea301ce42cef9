"""Landing files to Bronze rows: every line exactly as it came, plus where and when it arrived.

A file that cannot be read becomes one row with a null ``raw``, ``line_number`` 0 and the reason in
``read_error``: the other files go on, and Silver rejects that row as ``unreadable_file``.
"""

import datetime as dt
from collections.abc import Iterable, Iterator

import polars as pl

from ecom_assets.events.landing import UnreadableLandingFile, list_landing_files, read_landing_column
from ecom_assets.events.schema import BRONZE_SCHEMA
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.threads import map_ahead


def bronze_lines(
    lines: pl.Series | list[str], arrival_date: dt.date, source_file: str, landed_at: dt.datetime | None
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "raw": lines,
            "arrival_date": arrival_date,
            "source_file": source_file,
            "line_number": pl.int_range(1, len(lines) + 1, eager=True),
            "landed_at": landed_at,
            "read_error": None,
        },
        schema=BRONZE_SCHEMA,
    )


def unreadable_file(
    arrival_date: dt.date, source_file: str, landed_at: dt.datetime | None, error: str
) -> pl.DataFrame:
    """The one Bronze row that records a landing file nobody could read, and why."""
    row = {"raw": None, "arrival_date": arrival_date, "source_file": source_file, "line_number": 0}
    return pl.DataFrame([row | {"landed_at": landed_at, "read_error": error}], schema=BRONZE_SCHEMA)


def _landed_at(lake: Lake, path: str) -> dt.datetime | None:
    try:
        return lake.modified(path)
    except OSError:  # gone since it was listed
        return None


def read_landing_file(lake: Lake, arrival_date: dt.date, path: str) -> pl.DataFrame:
    landed_at = _landed_at(lake, path)
    try:
        return bronze_lines(read_landing_column(lake, path), arrival_date, path, landed_at)
    except UnreadableLandingFile as error:
        return unreadable_file(arrival_date, path, landed_at, str(error))


def landing_frames(lake: Lake, arrival_dates: Iterable[dt.date]) -> Iterator[pl.DataFrame]:
    """The Bronze rows of every landing file of these arrival dates, file by file, a few read at once."""
    files = (
        (arrival_date, path)
        for arrival_date in arrival_dates
        for path in list_landing_files(lake, arrival_date)
    )
    return map_ahead(lambda file: read_landing_file(lake, *file), files)


def read_landing_partition(lake: Lake, arrival_date: dt.date) -> pl.DataFrame:
    """All landing files of one arrival date as Bronze rows (empty when nothing has landed)."""
    frames = list(landing_frames(lake, [arrival_date]))
    return pl.concat(frames) if frames else BRONZE_SCHEMA.to_frame()
