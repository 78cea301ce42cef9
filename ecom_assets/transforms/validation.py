"""Validation of raw event lines against the contract: typed rows, or a machine-readable reason.

Structure and types are msgspec's: a line is an event exactly when msgspec decodes it into
``ContractEvent``. Most lines are plain flat objects, which are cut into columns in one compiled pass and
judged by ``ContractEvent``'s field types column by column (:mod:`ecom_assets.transforms.struct_columns`);
msgspec decodes every line that leaves any doubt, and names the reason when it refuses one. The rules a
column can express (formats, product fields, time windows) are checked vectorised in
:mod:`ecom_assets.transforms.silver`.

Reason codes (``silver/events_rejected.reason``): ``invalid_json``, ``not_an_object``,
``missing_required_field``, ``wrong_type``, ``invalid_value``, ``unknown_event_type``,
``invalid_timestamp``, ``negative_price``, ``invalid_quantity``, ``event_after_arrival``,
``late_beyond_window``, and ``unreadable_file`` for a landing file that could not be read at all.
``reason_detail`` names the field (or the message) at fault.
"""

import gc
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated, Literal

import msgspec
import numpy as np
import polars as pl

from ecom_assets.events.schema import EVENT_TYPES, INT32_MAX
from ecom_assets.transforms.plain_json import scan_objects
from ecom_assets.transforms.struct_columns import StructColumns

NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class ContractEvent(msgspec.Struct):
    """Section 1 of the contract as types; unknown extra fields are ignored (Bronze keeps them)."""

    event_id: NonEmpty
    event_type: Literal[EVENT_TYPES]  # type: ignore[valid-type]  # a tuple subscript: the Literal of its members
    event_ts: NonEmpty
    session_id: NonEmpty
    anonymous_id: NonEmpty
    customer_id: str | None = None
    product_id: str | None = None
    category: str | None = None
    brand: str | None = None
    price: Annotated[float, msgspec.Meta(ge=0)] | None = None
    quantity: Annotated[int, msgspec.Meta(ge=1, le=INT32_MAX)] | None = None
    order_id: str | None = None
    currency: str | None = None
    channel: Literal["web", "app"] | None = None
    device: str | None = None
    country: str | None = None
    schema_version: Annotated[int, msgspec.Meta(ge=-INT32_MAX, le=INT32_MAX)] = 1


DECODED_SCHEMA = pl.Schema(
    {
        name: {"price": pl.Float64, "quantity": pl.Int32, "schema_version": pl.Int32}.get(name, pl.String)
        for name in ContractEvent.__struct_fields__
    }
)

_decode = msgspec.json.Decoder(ContractEvent).decode
_FIELD = re.compile(r"`\$\.(\w+)")
_MISSING = re.compile(r"missing required field `(\w+)`")


def classify(error: msgspec.DecodeError) -> tuple[str, str]:
    """The reason code and detail of a msgspec decode error."""
    message = str(error)
    if not isinstance(error, msgspec.ValidationError):
        return "invalid_json", message
    if missing := _MISSING.search(message):
        return "missing_required_field", missing.group(1)
    field_match = _FIELD.search(message)
    if field_match is None:
        return "not_an_object", message
    field = field_match.group(1)
    if "got `null`" in message or "length >= 1" in message:
        return "missing_required_field", field
    if message.startswith("Invalid enum value"):
        return ("unknown_event_type" if field == "event_type" else "invalid_value"), field
    if field == "price" and ">= 0" in message:
        return "negative_price", field
    if field == "quantity" and (">= 1" in message or "<=" in message):
        return "invalid_quantity", field
    if "<=" in message or ">=" in message:
        return "invalid_value", field
    return "wrong_type", field


def decode_lines(raw_lines: Iterable[str]) -> tuple[list[tuple], list[int], list[tuple[int, str, str]]]:
    """Decoded rows with their line indices, and (index, reason, detail) of every line that failed."""
    rows, indices, failures = [], [], []
    as_tuple = msgspec.structs.astuple
    for index, raw in enumerate(raw_lines):
        try:
            rows.append(as_tuple(_decode(raw)))
            indices.append(index)
        except msgspec.DecodeError as error:
            failures.append((index, *classify(error)))
        except RecursionError:  # msgspec's answer to nesting deeper than it recurses (found by fuzzing)
            failures.append((index, "invalid_json", "nested too deeply"))
    return rows, indices, failures


def _decoded_frame(rows: list[tuple]) -> pl.DataFrame:
    # Column-wise construction is twice as fast as polars' row constructor.
    columns = zip(*rows, strict=True) if rows else [()] * len(DECODED_SCHEMA)
    return pl.DataFrame(dict(zip(DECODED_SCHEMA.names(), columns, strict=True)), schema=DECODED_SCHEMA)


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Decoding allocates a tuple per line and per column, which sets off the cycle collector again and
    again (a third of the time it takes to build the frame); none of them can form a cycle."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_CONTRACT_COLUMNS = StructColumns(ContractEvent, DECODED_SCHEMA)


@dataclass(frozen=True)
class DecodedColumn:
    values: pl.DataFrame  # DECODED_SCHEMA: one row per line that is an event
    indices: np.ndarray  # the line of each row
    failures: list[tuple[int, str, str]]  # (line, reason, detail) of every other line


def decode_column(raw: pl.Series) -> DecodedColumn:
    """``decode_lines`` of a column of lines, the same rows and failures, with most lines never decoded
    one by one."""
    plain = _CONTRACT_COLUMNS.decode(scan_objects(raw, _CONTRACT_COLUMNS.names))
    with _cycle_collector_paused():
        rows, positions, failures = decode_lines(raw.gather(plain.left))
        decoded = _decoded_frame(rows)
    # The plain rows' texts are views into the lines: copied out, each column's texts lie together and the
    # lines can go (grouping, joining and sorting on the views ran 1.7 times slower).
    compact = pl.DataFrame(plain.values.to_arrow(compat_level=pl.CompatLevel.oldest()))
    return DecodedColumn(
        values=pl.concat([compact, decoded]),
        indices=np.concatenate([plain.taken, plain.left[positions]]),
        failures=[(int(plain.left[position]), reason, detail) for position, reason, detail in failures],
    )
