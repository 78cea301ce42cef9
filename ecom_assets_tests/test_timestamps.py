"""The compiled pass over plain timestamps reads each to the instant polars' strptime reads it to."""

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from ecom_assets.transforms.plain_json import text_bytes
from ecom_assets.transforms.timestamps import _plain_instants, _polars_instants, utc_instants
from ecom_assets_tests.factories import hidden_under_a_null


def two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map("{:02d}".format)


timestamps = st.builds(
    "{}-{}-{}T{}:{}:{}{}{}".format,
    st.integers(1, 9999).map("{:04d}".format),
    two(0, 13),
    two(0, 32),
    two(0, 25),
    two(0, 61),
    two(0, 61),
    st.one_of(st.just(""), st.text("0123456789", min_size=0, max_size=11).map(lambda digits: "." + digits)),
    st.one_of(
        st.sampled_from(["Z", "z", "", "+00:00"]),
        st.builds("{}{}:{}".format, st.sampled_from("+-"), two(0, 25), two(0, 61)),
    ),
)


@settings(max_examples=500, deadline=None)
@given(st.lists(timestamps | st.text(max_size=30) | st.none(), max_size=20))
def test_timestamps_read_to_the_instants_polars_reads(texts):
    column = pl.Series("event_ts", texts, pl.String)
    assert utc_instants(column).equals(
        column.to_frame().select(_polars_instants(pl.col("event_ts"))).to_series()
    )


def test_the_usual_shapes_are_read_in_the_compiled_pass():
    usual = pl.Series(["2026-09-01T00:37:35.554Z", "2024-02-29T23:59:59-08:00", "1970-01-01T00:00:00+00:00"])
    data, offsets = text_bytes(usual)
    instants = np.empty(len(usual), np.int64)
    _plain_instants(data, offsets, instants)
    assert instants.tolist() == [1788223055554000, 1709279999000000, 0]


def test_a_null_is_no_timestamp_whatever_its_slot_holds():
    assert utc_instants(hidden_under_a_null("2026-09-01T00:00:00Z")).is_null().to_list() == [False, True]
