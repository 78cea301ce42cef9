"""Small hand-made events and Bronze frames for transform tests."""

import datetime as dt
import uuid

import numpy as np
import orjson
import polars as pl
import pyarrow as pa

from ecom_assets.transforms.bronze import bronze_lines

DAY = dt.date(2026, 10, 1)
LANDED = dt.datetime(2026, 10, 1, 23, 0, tzinfo=dt.UTC)


def event(n: int, **fields) -> dict:
    """A valid contract event; ``fields`` override or add (``None`` values are kept as JSON null)."""
    base = {
        "event_id": str(uuid.UUID(int=n)),
        "event_type": "page_view",
        "event_ts": f"{DAY.isoformat()}T10:{n % 60:02d}:00.000Z",
        "session_id": "s1",
        "anonymous_id": "a1",
        "customer_id": None,
        "channel": "web",
        "schema_version": 1,
    }
    return base | fields


def product_event(n: int, event_type: str = "product_view", **fields) -> dict:
    product = {"product_id": "p1", "category": "shoes", "brand": "acme", "price": 20.0}
    if event_type in ("add_to_cart", "remove_from_cart", "purchase"):
        product["quantity"] = 1
    if event_type == "purchase":
        product["order_id"] = "o1"
    return event(n, event_type=event_type, **product) | fields


def line(payload: dict) -> str:
    return orjson.dumps(payload).decode()


def bronze(lines: list[str], arrival_date: dt.date = DAY, source_file: str = "f.jsonl") -> pl.DataFrame:
    return bronze_lines(lines, arrival_date, source_file, LANDED)


def hidden_under_a_null(text: str) -> pl.Series:
    """[text, null], where Arrow's null slot still spans a copy of the text (Arrow allows it)."""
    data = (text * 2).encode()
    offsets = np.array([0, len(text), 2 * len(text)], np.int64)
    validity = np.packbits([True, False], bitorder="little")
    buffers = [pa.py_buffer(validity), pa.py_buffer(offsets), pa.py_buffer(data)]
    return pl.Series("texts", pa.Array.from_buffers(pa.large_string(), 2, buffers))
