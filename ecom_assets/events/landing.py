"""The landing zone of ``shared/CONTRACT.md`` section 2: ``landing/events/date=YYYY-MM-DD/*.jsonl[.gz]``."""

import datetime as dt
import gzip
import zlib
from collections.abc import Iterable

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


def read_landing_lines(lake: Lake, path: str) -> list[str]:
    """The lines of one landing file exactly as they came (undecodable bytes become U+FFFD).

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
    # Only a newline ends a line: str.splitlines also splits at U+2028, U+0085 and other characters that
    # JSON strings may hold as they are (found by fuzzing), which would break one event into two.
    lines = [line.removesuffix("\r") for line in data.decode("utf-8", errors="replace").split("\n")]
    return lines[:-1] if lines[-1] == "" else lines
