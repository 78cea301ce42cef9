"""The landing zone of ``shared/CONTRACT.md`` section 2: ``landing/events/date=YYYY-MM-DD/*.jsonl[.gz]``."""

import datetime as dt
import gzip
import zlib
from collections.abc import Iterable

import numpy as np
import polars as pl
import pyarrow as pa

from ecom_assets.storage.lake import Lake

LANDING_ROOT = "landing/events"
LANDING_SUFFIXES = (".jsonl", ".jsonl.gz")


def landing_dir(arrival_date: dt.date) -> str:
    return f"{LANDING_ROOT}/date={arrival_date.isoformat()}"


def is_landing_file(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return not name.startswith((".", "_")) and name.endswith(LANDING_SUFFIXES)


def list_landing_files(lake: Lake, arrival_date: dt.date) -> list[str]:
    return [path for path in lake.list_files(landing_dir(arrival_date)) if is_landing_file(path)]


def write_landing_file(lake: Lake, arrival_date: dt.date, name: str, lines: Iterable[str]) -> str:
    """Write newline-delimited events as one whole file; a ``.gz`` name is gzip-compressed."""
    if not name.endswith(LANDING_SUFFIXES):
        raise ValueError(f"landing file {name}: name must end in .jsonl or .jsonl.gz")
    data = "".join(f"{line}\n" for line in lines).encode()
    if name.endswith(".gz"):
        data = gzip.compress(data, compresslevel=5, mtime=0)
    path = f"{landing_dir(arrival_date)}/{name}"
    lake.write_bytes(path, data)
    return path


class UnreadableLandingFile(Exception):
    """A landing file whose bytes cannot be had or unpacked; the message says why."""


def read_landing_column(lake: Lake, path: str) -> pl.Series:
    """The lines of one landing file exactly as they came (undecodable bytes become U+FFFD), as a column.

    Raises UnreadableLandingFile for a file that is empty, gone, a directory, unreadable or not gzip.
    """
    try:
        data = lake.read_bytes(path)
        if not data:
            raise UnreadableLandingFile("empty file (0 bytes): a writer stopped before writing anything")
        if path.endswith(".gz"):
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise UnreadableLandingFile(f"{type(error).__name__}: {error}") from error
    try:
        data.decode("utf-8")  # the column below takes the bytes as they are: they must be UTF-8
    except UnicodeDecodeError:
        data = data.decode("utf-8", errors="replace").encode("utf-8")
    # Only a newline ends a line: str.splitlines also splits at U+2028, U+0085 and other characters that
    # JSON strings may hold as they are (found by fuzzing), which would break one event into two. The
    # lines are cut out of the file's bytes in place, with no Python string per line.
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n")) + 1
    if data[-1:] != b"\n":
        ends = np.append(ends, len(data))
    offsets = np.concatenate(([0], ends)).astype(np.int64)
    lines = pa.LargeStringArray.from_buffers(len(ends), pa.py_buffer(offsets), pa.py_buffer(data))
    return pl.Series("raw", lines).str.strip_suffix("\n").str.strip_suffix("\r")


def read_landing_lines(lake: Lake, path: str) -> list[str]:
    """``read_landing_column`` as Python strings."""
    return read_landing_column(lake, path).to_list()
