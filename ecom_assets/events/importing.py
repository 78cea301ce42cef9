"""What the importers of historical files share: files checked up front, a progress bar, events written in
bounded parts by event date, rows set aside with their reasons, and one summary with exact counts.

A historical import lands every event under the date of the event itself (arrival date = event date), in
gzip landing files of at most ``chunk_rows`` events named after the source file, so importing the same
file again overwrites its own landing files. A row that cannot become an event is kept, never dropped:
with its file, line number, reason and raw values in ``imports/<importer>/<file>/rejects-*.jsonl``
(returns, which are not events either, in ``returns-*.jsonl`` beside them).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import orjson
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from ecom_assets.events.landing import write_landing_file
from ecom_assets.storage.lake import Lake

RETURN = "return"  # the reason of a return or cancellation: set aside, but not a rejected row
MAX_EXAMPLES = 20


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``, three times as fast: it is a third of an import's time."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class RejectedRow(ValueError):
    """A source row that does not become an event: ``reason`` is its code, the message says why."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass
class ImportSummary:
    files: list[str]
    lake_uri: str
    rows: int = 0
    events: int = 0
    returns: int = 0
    rejected: Counter = field(default_factory=Counter)  # rows by reason
    events_by_date: Counter = field(default_factory=Counter)
    landing_files: list[str] = field(default_factory=list)
    reject_files: list[str] = field(default_factory=list)  # lake-relative, like the two below
    return_files: list[str] = field(default_factory=list)
    reject_examples: list[str] = field(default_factory=list)  # "file:line: reason", the first few

    @property
    def rejected_rows(self) -> int:
        return sum(self.rejected.values())

    def _where(self, paths: list[str]) -> str:
        return ", ".join(f"{self.lake_uri}/{path}" for path in paths)

    def __str__(self) -> str:
        days = sorted(self.events_by_date)
        lines = [
            f"imported {self.events:,} events from {self.rows:,} rows of {len(self.files)} file(s) "
            f"into {len(self.landing_files)} landing file(s) over {len(days)} day(s)"
            + (f" ({days[0]} to {days[-1]})" if days else "")
        ]
        if self.returns:
            lines.append(
                f"{self.returns:,} return(s) or cancellation(s) kept in {self._where(self.return_files)}"
            )
        if self.rejected:
            reasons = ", ".join(f"{reason} {count:,}" for reason, count in sorted(self.rejected.items()))
            lines.append(
                f"{self.rejected_rows:,} rejected row(s) ({reasons}) kept in {self._where(self.reject_files)}"
            )
        return "\n".join(lines)


def source_name(path: Path) -> str:
    return path.name.removesuffix(".gz").removesuffix(".csv").removesuffix(".parquet")


def check_sources(paths: list[Path], kind: str) -> None:
    """Every file exists, and no two share the name their landing files are called after."""
    names = Counter(source_name(path) for path in paths)
    if clashes := sorted(name for name, count in names.items() if count > 1):
        raise ValueError(
            f"{kind} files {', '.join(clashes)}: two inputs share a name; import them one at a time"
        )
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{kind} file {path} does not exist")


@contextmanager
def file_progress(enabled: bool) -> Iterator[Callable[[Path], Callable[[int], None]]]:
    """A progress bar per file: ``track(path)`` gives the function to call with the bytes done so far."""
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeRemainingColumn())
    with Progress(*columns, disable=not enabled, transient=True) as bar:

        def track(path: Path) -> Callable[[int], None]:
            task = bar.add_task(path.name, total=path.stat().st_size)
            return lambda done: bar.update(task, completed=done)

        yield track


@contextmanager
def open_text(path: Path) -> Iterator[tuple[io.TextIOWrapper, BinaryIO]]:
    """The text of a file (gzip or not), and the raw file whose position tells the progress."""
    with path.open("rb") as raw:
        stream = gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw
        yield io.TextIOWrapper(stream, encoding="utf-8", errors="replace", newline=""), raw


class PartWriter:
    """Buffers lines per key and writes them as numbered whole files, at most ``limit`` lines held."""

    def __init__(self, write: Callable[[object, int, list[str]], str], limit: int):
        self._write, self._limit = write, limit
        self._buffers: dict[object, list[str]] = {}
        self._parts: Counter = Counter()
        self._held = 0
        self.paths: list[str] = []

    def add(self, key: object, line: str) -> None:
        self._buffers.setdefault(key, []).append(line)
        self._held += 1
        if self._held >= self._limit:
            self.flush()

    def flush(self) -> None:
        for key, lines in self._buffers.items():
            self.paths.append(self._write(key, self._parts[key], lines))
            self._parts[key] += 1
        self._buffers, self._held = {}, 0


class SourceImport:
    """Where the rows of one source file go: events to the landing zone, the rest to the kept files."""

    def __init__(self, lake: Lake, path: Path, summary: ImportSummary, importer: str, chunk_rows: int):
        self.lake, self.path, self.summary, self.importer = lake, path, summary, importer
        self.name = source_name(path)
        self.landing = PartWriter(self._write_landing, chunk_rows)
        self.kept = {kind: PartWriter(self._write_kept, chunk_rows) for kind in ("rejects", "returns")}

    def _write_landing(self, day, part: int, lines: list[str]) -> str:
        return write_landing_file(self.lake, day, f"{self.importer}-{self.name}-{part:05d}.jsonl.gz", lines)

    def _write_kept(self, kind, part: int, lines: list[str]) -> str:
        path = f"imports/{self.importer}/{self.name}/{kind}-{part:05d}.jsonl"
        self.lake.write_bytes(path, "".join(f"{line}\n" for line in lines).encode())
        return path

    def land(self, event_date, event: dict) -> None:
        self.landing.add(event_date, orjson.dumps(event).decode())
        self.summary.events += 1
        self.summary.events_by_date[event_date] += 1

    def keep(self, line_number: int, raw: object, rejection: RejectedRow) -> None:
        """Set a row aside with its reason: a return, or a rejected row (counted and shown by example)."""
        record = {
            "source_file": str(self.path),
            "line_number": line_number,
            "reason": rejection.reason,
            "detail": str(rejection),
            "raw": raw,
        }
        kind = "returns" if rejection.reason == RETURN else "rejects"
        self.kept[kind].add(kind, orjson.dumps(record, default=str).decode())
        if kind == "returns":
            self.summary.returns += 1
            return
        self.summary.rejected[rejection.reason] += 1
        if len(self.summary.reject_examples) < MAX_EXAMPLES:
            self.summary.reject_examples.append(f"{self.path}:{line_number}: {rejection}")

    def close(self) -> None:
        for writer in (self.landing, *self.kept.values()):
            writer.flush()
        self.summary.landing_files += self.landing.paths
        self.summary.reject_files += self.kept["rejects"].paths
        self.summary.return_files += self.kept["returns"].paths
