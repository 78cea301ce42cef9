"""Import the public REES46 e-commerce CSV into the landing zone as contract events.

Files of any size stream through in bounded memory: events are buffered per event date and written as
gzip landing files of at most ``chunk_rows`` events under ``landing/events/date=<event date>/`` (for a
historical import the arrival date is the event date). Event ids are uuid5 of the row's text and its
position among identical rows of the same second, so a re-import (also of a renamed or compressed copy)
yields the same ids and Silver deduplicates it.

A line that cannot become an event (wrong number of fields, unreadable time, price that is not a
number, unknown event type) is kept, not dropped: it goes with its file, line number and reason
(``malformed``, and the detail) to ``imports/rees46/<name>/rejects-*.jsonl`` in the lake and is counted
in the summary (:mod:`ecom_assets.events.importing`). Rows that convert but break the contract (say an
empty session) land as events and Silver rejects them with the reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from ecom_assets.events.importing import (
    ImportSummary,
    RejectedRow,
    SourceImport,
    check_sources,
    file_progress,
    open_text,
    uuid5_text,
)
from ecom_assets.events.tabular import READ_ERRORS
from ecom_assets.storage.lake import Lake

COLUMNS = (
    "event_time",
    "event_type",
    "product_id",
    "category_id",
    "category_code",
    "brand",
    "price",
    "user_id",
    "user_session",
)
EVENT_TYPES = {
    "view": "product_view",
    "cart": "add_to_cart",
    "remove_from_cart": "remove_from_cart",
    "purchase": "purchase",
}
# Fixed forever: changing it changes every event id, and re-imports would no longer deduplicate.
ID_NAMESPACE = uuid.UUID("9f881b46-33dc-5c5e-afd8-2bfa8c383713")
CURRENCY = "USD"  # REES46 prices are in US dollars


class MalformedRow(RejectedRow):
    """A CSV line that cannot be turned into an event; the message says why."""

    def __init__(self, message: str):
        super().__init__("malformed", message)


def event_id(identity: str) -> str:
    return uuid5_text(ID_NAMESPACE, identity)


@lru_cache(maxsize=4096)
def event_time(text: str) -> tuple[str, dt.date]:
    """``2019-10-01 00:00:05 UTC`` as the contract's ISO timestamp and its UTC date."""
    try:
        parsed = dt.datetime.fromisoformat(text.removesuffix(" UTC"))
    except ValueError:
        raise MalformedRow(f"event_time {text[:40]!r} is not a time") from None
    parsed = parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)
    return parsed.isoformat().replace("+00:00", "Z"), parsed.date()


def _price(text: str) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise MalformedRow(f"price {text[:40]!r} is not a number") from None


def to_event(fields: list[str], identity: str) -> tuple[dt.date, dict]:
    """The contract event of one REES46 row, with its event date; ``identity`` seeds the event id."""
    if len(fields) != len(COLUMNS):
        raise MalformedRow(f"expected {len(COLUMNS)} fields, found {len(fields)}")
    time, kind, product_id, category_id, category_code, brand, price, user_id, session = fields
    if kind not in EVENT_TYPES:
        raise MalformedRow(f"event_type {kind[:40]!r} is not one of {', '.join(EVENT_TYPES)}")
    event_ts, event_date = event_time(time)
    event = {
        "event_id": event_id(identity),
        "event_type": EVENT_TYPES[kind],
        "event_ts": event_ts,
        "session_id": session,
        "anonymous_id": f"rees46-{user_id}" if user_id else "",
        "customer_id": user_id or None,
        "product_id": product_id or None,
        "category": category_code or category_id or None,
        "brand": brand or None,
        "price": _price(price),
        "currency": CURRENCY,
        "schema_version": 1,
    }
    if kind != "view":
        event["quantity"] = 1
    if kind == "purchase":
        event["order_id"] = f"rees46-{session}" if session else None
    return event_date, {key: value for key, value in event.items() if value is not None}


def split_line(line: str) -> list[str]:
    # REES46 never quotes; the csv module only runs for the rare line that does.
    return next(csv.reader([line])) if '"' in line else line.split(",")


class RepeatCounter:
    """How many identical rows came before this one within the same second (input is time-ordered)."""

    def __init__(self):
        self._time = None
        self._seen: Counter = Counter()

    def identity(self, line: str, time: str) -> str:
        if time != self._time:
            self._time, self._seen = time, Counter()
        repeat = self._seen[line]
        self._seen[line] += 1
        return f"{line}#{repeat}"


def _check_header(path: Path, lines: Iterator[str]) -> None:
    header = tuple(next(lines, "").lstrip("\ufeff").strip().split(","))
    if header != COLUMNS:
        raise ValueError(
            f"{path}: header {','.join(header)[:200]!r} is not the REES46 one: {','.join(COLUMNS)}"
        )


def _add_line(source: SourceImport, repeats: RepeatCounter, line_number: int, line: str) -> None:
    source.summary.rows += 1
    try:
        fields = split_line(line)
        source.land(*to_event(fields, repeats.identity(line, fields[0])))
    except csv.Error as error:
        source.keep(line_number, line, MalformedRow(str(error)))
    except MalformedRow as rejection:
        source.keep(line_number, line, rejection)


def _import_file(source: SourceImport, advance: Callable[[int], None]) -> None:
    try:
        _import_lines(source, advance)
    except READ_ERRORS as error:
        raise ValueError(
            f"{source.path}: unreadable after {source.summary.rows:,} rows ({error}); the rows before it "
            "landed, and importing the repaired file again replaces them"
        ) from None


def _import_lines(source: SourceImport, advance: Callable[[int], None]) -> None:
    repeats = RepeatCounter()
    with open_text(source.path) as (text, raw):
        lines: Iterator[str] = iter(text)
        _check_header(source.path, lines)
        for line_number, line in enumerate(lines, start=2):
            if line := line.rstrip("\r\n"):
                _add_line(source, repeats, line_number, line)
            if line_number % 20_000 == 0:
                advance(raw.tell())
        advance(raw.tell())
    source.close()


def import_rees46(
    lake: Lake, paths: list[Path], progress: bool = True, chunk_rows: int = 200_000
) -> ImportSummary:
    """Convert REES46 CSV files (``.csv`` or ``.csv.gz``) into landing-zone events; see the module doc."""
    check_sources(paths, "REES46")
    summary = ImportSummary(files=[str(path) for path in paths], lake_uri=lake.uri)
    with file_progress(progress) as track:
        for path in paths:
            _import_file(SourceImport(lake, path, summary, "rees46", chunk_rows), track(path))
    return summary
