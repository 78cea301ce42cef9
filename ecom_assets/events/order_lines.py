"""One order line (a row of a shop's export: one product of one order) as one contract purchase event.

The fields and the columns they are read from by default are ``FIELDS``; ``--map FIELD=COLUMN`` reads a
field from another column. ``ordered_at`` is ISO 8601 text (or text in a ``strptime`` format given), or a
Parquet date or timestamp; a time without an offset is in the zone given (UTC by default), one with an
offset is converted to UTC.

A row with a negative quantity is a return or cancellation, whatever else it holds: never a purchase, it
is set aside with reason ``return``. A row that cannot become an event is rejected with one of the
reasons ``wrong_field_count``, ``missing_<field>``, ``invalid_quantity`` (not a whole number, or more than
the contract's Int32 holds), ``zero_quantity``, ``invalid_timestamp``, ``invalid_price``, ``negative_price``,
``invalid_currency``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ecom_assets.events.importing import RETURN, RejectedRow
from ecom_assets.events.schema import INT32_MAX

REQUIRED_FIELDS = ("order_id", "customer_id", "ordered_at", "product_id", "quantity", "unit_price")
OPTIONAL_FIELDS = ("category", "brand", "country", "currency")
FIELDS = REQUIRED_FIELDS + OPTIONAL_FIELDS
DEFAULT_CURRENCY = "EUR"
SHOWN_COLUMNS = 30  # of a file's columns, in the error that names a missing one
WHOLE_NUMBER = "a whole number"


def field_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """``["customer_id=Customer", ...]`` as ``{field: column}``; a bad pair is a one-line error."""
    mapping: dict[str, str] = {}
    for pair in pairs:
        name, equals, column = (part.strip() for part in pair.partition("="))
        if not equals or not name or not column:
            raise ValueError(
                f"--map {pair!r}: expected FIELD=COLUMN, for example --map customer_id=CustomerID"
            )
        if name not in FIELDS:
            raise ValueError(f"--map {pair!r}: no field {name!r}; the fields are {', '.join(FIELDS)}")
        if name in mapping:
            raise ValueError(f"--map {name}: given twice ({name}={mapping[name]} and {pair})")
        mapping[name] = column
    return mapping


def time_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"--timezone {name!r}: not a time zone; use an IANA name such as Europe/Berlin"
        ) from None


@dataclass(frozen=True)
class OrderColumns:
    """Where each field sits in a file's rows, and the column it is read from (named in every reason)."""

    names: list[str]
    positions: dict[str, int]

    @classmethod
    def resolve(cls, path: Path, names: list[str], mapping: dict[str, str]) -> OrderColumns:
        first = {name: position for position, name in reversed(list(enumerate(names)))}
        positions = {}
        for field in FIELDS:
            column = mapping.get(field, field)
            if column in first:
                positions[field] = first[column]
            elif field in REQUIRED_FIELDS or field in mapping:
                shown = ", ".join(names[:SHOWN_COLUMNS]) + (", ..." if len(names) > SHOWN_COLUMNS else "")
                raise ValueError(
                    f"{path}: no column {column!r}; columns are {shown}; pass --map {field}=<column>"
                )
        return cls(names, positions)

    def value(self, values: Sequence, field: str) -> object:
        position = self.positions.get(field)
        return None if position is None else values[position]

    def label(self, field: str) -> str:
        column = self.names[self.positions[field]]
        return field if column == field else f"{field} (column {column})"


def _text(value: object) -> str | None:
    """A value as text, None when empty; integral floats lose their '.0' (ids that pandas wrote as floats)."""
    if isinstance(value, str):  # every CSV value: first, for speed
        return value.strip() or None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() or None


def _required_text(columns: OrderColumns, values: Sequence, field: str) -> str:
    text = _text(columns.value(values, field))
    if text is None:
        raise RejectedRow(f"missing_{field}", f"{columns.label(field)} is empty")
    return text


def _number(
    columns: OrderColumns, values: Sequence, field: str, reason: str, kind: str = "a number"
) -> float:
    text = _required_text(columns, values, field)
    try:
        number = float(text)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or (kind == WHOLE_NUMBER and not number.is_integer()):
        raise RejectedRow(reason, f"{columns.label(field)} {text[:40]!r} is not {kind}")
    return number


def _quantity(columns: OrderColumns, values: Sequence) -> int:
    quantity = int(_number(columns, values, "quantity", "invalid_quantity", WHOLE_NUMBER))
    if quantity == 0:
        raise RejectedRow("zero_quantity", f"{columns.label('quantity')} is 0")
    if quantity < 0:
        raise RejectedRow(RETURN, f"{columns.label('quantity')} is {quantity}: a return or cancellation")
    if quantity > INT32_MAX:
        text = _required_text(columns, values, "quantity")[:40]
        raise RejectedRow("invalid_quantity", f"{columns.label('quantity')} {text!r} is above {INT32_MAX}")
    return quantity


def _unit_price(columns: OrderColumns, values: Sequence) -> float:
    price = _number(columns, values, "unit_price", "invalid_price")
    if price < 0:
        raise RejectedRow("negative_price", f"{columns.label('unit_price')} is {price:g}, below 0")
    return price


@dataclass(frozen=True)
class OrderTimes:
    """How ``ordered_at`` text is read: ISO 8601 or a ``strptime`` format; without an offset, in ``zone``."""

    zone: ZoneInfo
    format: str | None = None

    def in_utc(self, moment: dt.datetime) -> tuple[str, dt.date]:
        """The contract's ISO timestamp (``...Z``) of a time and its UTC date."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        moment = moment.astimezone(dt.UTC)
        return moment.isoformat().replace("+00:00", "Z"), moment.date()

    @lru_cache(maxsize=4096)  # noqa: B019  (a handful of instances per import; the lines of an order share a time)
    def parse(self, text: str) -> tuple[str, dt.date] | None:
        try:
            moment = (
                dt.datetime.strptime(text, self.format) if self.format else dt.datetime.fromisoformat(text)
            )
        except ValueError:
            return None
        return self.in_utc(moment)

    def expected(self) -> str:
        return f"in --time-format {self.format!r}" if self.format else "an ISO 8601 time"


def _ordered_at(columns: OrderColumns, values: Sequence, times: OrderTimes) -> tuple[str, dt.date]:
    value = columns.value(values, "ordered_at")
    if isinstance(value, dt.datetime):  # Parquet timestamps
        return times.in_utc(value)
    if isinstance(value, dt.date):
        return times.in_utc(dt.datetime.combine(value, dt.time()))
    text = _required_text(columns, values, "ordered_at")
    if (parsed := times.parse(text)) is None:
        raise RejectedRow(
            "invalid_timestamp", f"{columns.label('ordered_at')} {text[:40]!r} is not {times.expected()}"
        )
    return parsed


def _currency(columns: OrderColumns, values: Sequence) -> str:
    text = _text(columns.value(values, "currency"))
    if text is None:
        return DEFAULT_CURRENCY
    if not (len(text) == 3 and text.isascii() and text.isalpha()):
        raise RejectedRow(
            "invalid_currency", f"{columns.label('currency')} {text[:40]!r} is not an ISO 4217 code"
        )
    return text.upper()


def to_purchase(values: Sequence, columns: OrderColumns, times: OrderTimes) -> tuple[dt.date, dict]:
    """The purchase event (without its id) of one order line and its UTC date, or RejectedRow."""
    if len(values) != len(columns.names):
        raise RejectedRow("wrong_field_count", f"expected {len(columns.names)} fields, found {len(values)}")
    quantity = _quantity(columns, values)
    order_id, customer_id, product_id = (
        _required_text(columns, values, field) for field in ("order_id", "customer_id", "product_id")
    )
    event_ts, event_date = _ordered_at(columns, values, times)
    event = {
        "event_type": "purchase",
        "event_ts": event_ts,
        "session_id": f"order-{order_id}",
        "anonymous_id": f"customer-{customer_id}",
        "customer_id": customer_id,
        "order_id": order_id,
        "product_id": product_id,
        "quantity": quantity,
        "price": _unit_price(columns, values),
        "currency": _currency(columns, values),
        "schema_version": 1,
    }
    for field in ("category", "brand", "country"):
        if (text := _text(columns.value(values, field))) is not None:
            event[field] = text
    return event_date, event
