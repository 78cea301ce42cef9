"""Property-based fuzzing of what reads untrusted input: the landing-line parser and both importers.

Whatever the lines hold (random bytes, any Unicode, huge lines, deep nesting, any field of any type),
nothing crashes and every line is accounted for: a Silver event, a rejected line with its reason, or
a duplicate delivery. Examples are few and bounded so the suite stays fast.
"""

import csv
import datetime as dt
import gzip
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecom_assets.events.landing import list_landing_files, read_landing_lines, write_landing_file
from ecom_assets.events.orders import import_orders
from ecom_assets.events.rees46 import COLUMNS, import_rees46
from ecom_assets.events.schema import PRODUCT_EVENTS, QUANTITY_EVENTS
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.silver import build_silver, parse_bronze
from ecom_assets_tests.factories import DAY, bronze, event, line, product_event

LATE_WINDOW_DAYS = 3
WINDOW = [DAY - dt.timedelta(days=back) for back in range(LATE_WINDOW_DAYS + 1)]
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def wrong_typed_events(draw) -> str:
    """A valid event of some type with one of its fields (or a new one) set to any JSON value."""
    event_type = draw(st.sampled_from(sorted(PRODUCT_EVENTS | QUANTITY_EVENTS | {"page_view", "login"})))
    valid = (
        product_event(draw(st.integers(0, 10**6)), event_type) if event_type in PRODUCT_EVENTS else event(0)
    )
    field = draw(st.sampled_from(sorted(valid) + ["price", "quantity", "currency", "unknown_extra"]))
    return json.dumps(valid | {field: draw(json_values)})


def deeply_nested(depth: int) -> str:
    return line(event(depth)).replace('"channel"', '"nested":' + "[" * depth + "]" * depth + ',"channel"', 1)


landing_lines = st.one_of(
    st.text(),
    st.binary().map(lambda raw: raw.decode("utf-8", errors="replace")),
    json_values.map(json.dumps),  # the standard library writes integers of any size, and NaN
    wrong_typed_events(),
    st.integers(1, 3000).map(deeply_nested),
    st.integers(1, 3000).map(lambda depth: "{" * depth),
    st.integers(10_000, 300_000).map(lambda size: line(event(size, session_id="s" * size))),
    st.integers(0, 50).map(lambda n: line(event(n % 5))),  # repeated deliveries
)


@FUZZ
@given(st.lists(landing_lines, max_size=30))
def test_every_landing_line_becomes_one_event_or_one_rejected_line(lines):
    parsed = parse_bronze(bronze(lines), LATE_WINDOW_DAYS)

    assert parsed.events.height + parsed.rejected.height == len(lines)
    assert parsed.rejected["reason"].null_count() == 0
    silver = build_silver(bronze(lines), WINDOW, LATE_WINDOW_DAYS)
    assert (
        silver.events.height + silver.rejected.height + silver.duplicates == silver.lines_read == len(lines)
    )


@FUZZ
# At least one line: a zero-byte landing file is an unreadable one (test_unreadable_landing_files.py).
@given(
    st.lists(st.text(st.characters(codec="utf-8", exclude_characters="\r\n")), min_size=1, max_size=20),
    st.booleans(),
)
def test_landing_files_give_back_exactly_the_lines_written(lines, compressed):
    with tempfile.TemporaryDirectory() as folder:
        lake = Lake(folder)
        path = write_landing_file(lake, DAY, "fuzz.jsonl.gz" if compressed else "fuzz.jsonl", lines)

        assert read_landing_lines(lake, path) == lines


rees46_fields = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=30),
    st.sampled_from(["view", "cart", "purchase", "remove_from_cart", "2019-10-01 00:00:05 UTC", "-1", "nan"]),
    st.floats().map(str),
)
rees46_lines = st.one_of(
    st.lists(rees46_fields, min_size=len(COLUMNS), max_size=len(COLUMNS)).map(",".join),
    st.lists(rees46_fields, max_size=12).map(",".join),
    st.binary().map(lambda raw: raw.replace(b"\n", b" ").replace(b"\r", b" ").decode("utf-8", "replace")),
    st.integers(10_000, 200_000).map(lambda size: "x" * size),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(rees46_lines, max_size=20), st.booleans())
def test_every_rees46_row_becomes_one_event_or_one_kept_malformed_line(lines, compressed):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("rees46.csv.gz" if compressed else "rees46.csv")
        text = "\n".join([",".join(COLUMNS), *lines]).encode()
        path.write_bytes(gzip.compress(text) if compressed else text)
        lake = Lake(f"{folder}/lake")

        summary = import_rees46(lake, [path], progress=False, chunk_rows=7)

        rows = [text for text in lines if text]
        assert summary.rows == len(rows) and summary.events + summary.rejected_rows == len(rows)
        landed = [
            text
            for day in summary.events_by_date
            for path in list_landing_files(lake, day)
            for text in read_landing_lines(lake, path)
        ]
        kept = [
            text for path in summary.reject_files for text in lake.read_bytes(path).decode().split("\n")[:-1]
        ]
        assert (len(landed), len(kept)) == (summary.events, summary.rejected_rows)


ORDER_COLUMNS = ("order_id", "customer_id", "ordered_at", "product_id", "quantity", "unit_price", "country")
order_cells = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-(2**40), max_value=2**40).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.datetimes(timezones=st.none() | st.just(dt.UTC)).map(lambda moment: moment.isoformat()),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(order_cells, min_size=len(ORDER_COLUMNS), max_size=len(ORDER_COLUMNS)), max_size=20))
def test_every_order_line_becomes_one_event_one_return_or_one_kept_reject(rows):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(ORDER_COLUMNS)
            writer.writerows(rows)
        lake = Lake(f"{folder}/lake")

        summary = import_orders(lake, [path], progress=False, chunk_rows=7)

        assert summary.rows == len(rows)
        assert summary.events + summary.returns + summary.rejected_rows == len(rows)
        landed = [
            text
            for day in summary.events_by_date
            for landing in list_landing_files(lake, day)
            for text in read_landing_lines(lake, landing)
        ]
        assert len(landed) == summary.events
