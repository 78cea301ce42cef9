"""The compiled pass over plain lines and its column checks decode exactly what msgspec decodes.

``decode_column`` takes most lines without decoding them one by one; every test here holds it to
``decode_lines`` (msgspec, line by line): the same rows from the same lines, the same failures.
"""

import datetime as dt
import json

import msgspec
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecom_assets.events.landing import list_landing_files, read_landing_column
from ecom_assets.events.simulator import simulate
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms import plain_json
from ecom_assets.transforms.plain_json import (
    ABSENT,
    EXPONENT,
    FRACTION,
    MINUS,
    NULL,
    NUMBER,
    STRING,
    scan_objects,
)
from ecom_assets.transforms.struct_columns import StructColumns
from ecom_assets.transforms.validation import ContractEvent, _decoded_frame, decode_column, decode_lines
from ecom_assets_tests.factories import event, hidden_under_a_null, line, product_event

FIELDS = tuple(ContractEvent.__struct_fields__)


def by_line(values: pl.DataFrame, indices) -> pl.DataFrame:
    return values.with_columns(_line=pl.Series(np.asarray(indices, np.int64))).sort("_line")


def assert_decodes_as_msgspec(lines: list[str]) -> None:
    column = decode_column(pl.Series("raw", lines, pl.String))
    rows, indices, failures = decode_lines(lines)
    assert by_line(column.values, column.indices).equals(by_line(_decoded_frame(rows), indices))
    assert sorted(column.failures) == sorted(failures)


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=16),
    st.sampled_from(["page_view", "purchase", "web", "app", "", "EUR", "2026-10-01T10:00:00Z"]),
)
# Decimals as written, not as Python would print them: up to 21 digits, exponents, signs.
decimal_texts = st.builds(
    "{}{}.{}{}".format,
    st.sampled_from(["", "-"]),
    st.integers(0, 10**9),
    st.integers(0, 10**12),
    st.sampled_from(["", "e2", "E-3", "e+0"]),
)
value_texts = st.one_of(
    json_scalars.map(json.dumps),
    decimal_texts,
    st.lists(json_scalars, max_size=2).map(json.dumps),
    st.dictionaries(st.text(max_size=3), json_scalars, max_size=2).map(json.dumps),
)
keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=10))
spaces = st.sampled_from(["", " ", "\t", "\n ", "\r"])


@st.composite
def flat_objects(draw) -> str:
    """A valid event with fields dropped, changed or added, in any order and spacing, keys maybe repeated."""
    base = product_event(draw(st.integers(0, 10**6)), draw(st.sampled_from(["purchase", "add_to_cart"])))
    dropped = draw(st.sets(st.sampled_from(sorted(base)), max_size=2))
    pairs = [(key, json.dumps(value)) for key, value in base.items() if key not in dropped]
    changed = draw(st.dictionaries(keys, value_texts, max_size=4))
    pairs = [(key, changed.pop(key, text)) for key, text in pairs] + list(changed.items())
    pairs += draw(st.lists(st.tuples(st.sampled_from(FIELDS), value_texts), max_size=1))
    pairs = draw(st.permutations(pairs))
    gap = draw(spaces)
    members = [f"{gap}{json.dumps(key)}{gap}:{gap}{text}{gap}" for key, text in pairs]
    return gap + "{" + ",".join(members) + "}" + gap


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(flat_objects() | st.text(max_size=40), max_size=12))
def test_any_lines_decode_as_msgspec_decodes_them(lines):
    assert_decodes_as_msgspec(lines)


@pytest.mark.parametrize(
    "number",
    [
        "0",
        "0.0",
        "5",
        "19.99",
        "0.1",
        "123456789.012345",
        "1e2",
        "1E-2",
        "12.5e+3",
        "-0",
        "-0.0",
        "-3.5",
        "9" * 15,
        "9" * 16,
        "0.3000000000000000444",
        "2147483647",
        "2147483648",
        "-2147483647",
        "-2147483648",
        "99999999999999999999",
        "1.0",
        "01",
        "1.",
        ".5",
        "-",
        "+1",
        "1e",
        "0x10",
    ],
)
@pytest.mark.parametrize("field", ["price", "quantity", "schema_version"])
def test_numbers_of_every_shape_decode_as_msgspec_decodes_them(field, number):
    assert_decodes_as_msgspec(
        [line(product_event(1, "purchase")).replace('"order_id"', f'"{field}":{number},"order_id"')]
    )


def test_a_simulated_day_decodes_as_msgspec_decodes_it_with_almost_no_line_left_to_msgspec(tmp_path):
    lake = Lake(str(tmp_path))
    simulate(lake, dt.date(2026, 9, 1), days=1, customers=300, seed=3, progress=False)
    arrivals = [dt.date(2026, 9, 1), dt.date(2026, 9, 2)]
    paths = [path for day in arrivals for path in list_landing_files(lake, day)]
    lines = pl.concat([read_landing_column(lake, path) for path in paths])
    assert_decodes_as_msgspec(lines.to_list())
    plain = scan_objects(lines, FIELDS).plain
    assert plain.mean() > 0.99  # only the simulator's broken lines are msgspec's to read


def test_lines_are_cut_in_pieces_each_with_its_own_bytes(monkeypatch):
    lines = [line(product_event(n, session_id="s" * (n % 20))) for n in range(200)] + ["{", ""]
    whole = decode_column(pl.Series("raw", lines))
    monkeypatch.setattr(plain_json, "_PIECE_BYTES", 700)
    pieces = plain_json._pieces(np.cumsum([0] + [len(text) for text in lines]), 1)
    assert len(pieces) > 50
    cut = decode_column(pl.Series("raw", lines))
    assert by_line(cut.values, cut.indices).equals(by_line(whole.values, whole.indices))
    assert cut.failures == whole.failures


def kinds_of(text: str) -> dict[str, int] | None:
    scanned = scan_objects(pl.Series([text]), FIELDS)
    if not scanned.plain[0]:
        return None
    return {field: int(kinds[0]) for field, kinds in scanned.kinds.items() if kinds[0] != ABSENT}


def test_kinds_say_what_each_field_holds():
    assert kinds_of('{"event_id":"x", "price": -1.5e3 ,"quantity":null,"extra":[1]}') is None
    assert kinds_of(' {"event_id" : "x", "price": -1.5e3 ,"quantity":null,"extra":7} ') == {
        "event_id": STRING,
        "price": NUMBER | MINUS | FRACTION | EXPONENT,
        "quantity": NULL,
    }


@pytest.mark.parametrize(
    "text",
    [
        '{"event_id":"a\\"b"}',  # an escape
        '{"event_id":"a\tb"}',  # a raw control character
        '{"event_\\u0069d":"x"}',  # an escaped key
        '{"event_id":"x","event_id":"y"}',  # a field named twice
        '{"event_id":true}',
        '{"event_id":"x"} x',
        '{"event_id":"x",}',
        '{"event_id":nul}',
        "[]",
        "{}",
        "",
    ],
)
def test_lines_a_decoder_must_read_are_not_plain(text):
    assert kinds_of(text) is None


def test_an_event_with_escapes_is_left_to_msgspec_and_still_decoded():
    escaped = line(event(1, customer_id='C"1\\é'))
    column = decode_column(pl.Series([escaped, line(event(2))]))
    assert sorted(column.indices.tolist()) == [0, 1]
    assert 'C"1\\é' in column.values["customer_id"].to_list()


def test_a_null_line_is_not_plain_whatever_its_slot_holds():
    assert scan_objects(hidden_under_a_null(line(event(1))), FIELDS).plain.tolist() == [True, False]


def test_a_struct_without_column_checks_is_refused_when_built():
    class Renamed(msgspec.Struct, rename="camel"):
        event_id: str

    class Nested(msgspec.Struct):
        tags: list[str]

    with pytest.raises(TypeError, match="renamed or forbidden unknown fields"):
        StructColumns(Renamed, pl.Schema({"event_id": pl.String}))
    with pytest.raises(TypeError, match="tags: .* has no column check"):
        StructColumns(Nested, pl.Schema({"tags": pl.List(pl.String)}))


def test_an_integer_too_large_for_its_column_is_left_to_the_decoder():
    class Counted(msgspec.Struct):
        count: int

    columns = StructColumns(Counted, pl.Schema({"count": pl.Int32}))
    lines = pl.Series(['{"count": 7}', '{"count": 4294967296}'])
    plain = columns.decode(scan_objects(lines, columns.names))
    assert plain.taken.tolist() == [0] and plain.left.tolist() == [1]
    assert plain.values["count"].to_list() == [7]
