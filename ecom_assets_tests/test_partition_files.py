"""Streams written as Parquet files per partition, with the Delta statistics of each file."""

import datetime as dt
import io
import json

import polars as pl

from ecom_assets.storage.partition_files import PartitionFiles, delta_stats

D1, D2 = dt.date(2026, 10, 1), dt.date(2026, 10, 2)
UTC = dt.UTC


def test_statistics_count_rows_and_nulls_and_bound_every_ranged_column():
    frame = pl.DataFrame(
        {
            "id": ["b", None, "a"],
            "price": [2.5, 1.0, None],
            "day": [D2, D1, D2],
            "flag": [True, False, None],
            "raw": ['{"z":1}', '{"a":1}', None],
        }
    )
    stats = json.loads(delta_stats(frame, unranged=frozenset({"raw"})))
    assert stats["numRecords"] == 3
    assert stats["nullCount"] == {"id": 1, "price": 1, "day": 0, "flag": 1, "raw": 1}
    assert stats["minValues"] == {"id": "a", "price": 1.0, "day": "2026-10-01", "flag": False}
    assert stats["maxValues"] == {"id": "b", "price": 2.5, "day": "2026-10-02", "flag": True}


def test_timestamp_bounds_are_milliseconds_that_still_hold_every_value():
    stamps = [
        dt.datetime(2026, 10, 1, 8, 0, 0, 999, tzinfo=UTC),
        dt.datetime(2026, 10, 1, 9, 30, 1, 250_001, tzinfo=UTC),
    ]
    stats = json.loads(delta_stats(pl.DataFrame({"ts": stamps}), frozenset()))
    assert stats["minValues"]["ts"] == "2026-10-01T08:00:00.000Z"
    assert stats["maxValues"]["ts"] == "2026-10-01T09:30:01.251Z", "the maximum is rounded up"
    exact = json.loads(delta_stats(pl.DataFrame({"ts": [stamps[0].replace(microsecond=5000)]}), frozenset()))
    assert exact["maxValues"]["ts"] == "2026-10-01T08:00:00.005Z", "a whole millisecond stays as it is"


def test_only_the_first_32_columns_get_statistics_and_a_column_of_nulls_has_no_bounds():
    frame = pl.DataFrame({f"c{n:02d}": [n] for n in range(40)}).with_columns(c00=pl.lit(None, pl.Int64))
    stats = json.loads(delta_stats(frame, frozenset()))
    assert list(stats["nullCount"]) == [f"c{n:02d}" for n in range(32)]
    assert "c00" not in stats["minValues"] and stats["minValues"]["c31"] == 31


def test_frames_become_a_file_per_run_of_one_partition_cut_at_the_size_limit():
    written: dict[str, bytes] = {}
    rows = [pl.DataFrame({"day": [day] * 100, "n": range(100)}) for day in (D1, D1, D2, D1)]
    mixed = pl.concat([rows[0].head(3), rows[2].head(2)])
    frame_bytes = rows[0].drop("day").estimated_size()  # two frames are over the limit, one is not
    files = PartitionFiles(written.__setitem__, "day", int(frame_bytes * 1.25), unranged=frozenset())
    actions = files.write([*rows, mixed])

    days = [action.partition_values["day"] for action in actions]
    assert days == ["2026-10-01", "2026-10-01", "2026-10-02", "2026-10-01", "2026-10-02"]
    assert [action.path.split("/")[0] for action in actions] == [f"day={day}" for day in days]
    counts = []
    for action in actions:
        data = pl.read_parquet(io.BytesIO(written[action.path]))
        assert data.columns == ["n"], "the partition value is in the path, not in the file"
        assert len(written[action.path]) == action.size
        assert json.loads(action.stats)["numRecords"] == data.height
        counts.append(data.height)
    assert counts == [100, 100, 100, 103, 2], "the mixed frame's 3 rows join the open file of their day"


def test_frames_of_one_partition_share_a_file_up_to_the_size_limit():
    written: dict[str, bytes] = {}
    rows = pl.DataFrame({"day": [D1] * 10, "n": range(10)})
    files = PartitionFiles(written.__setitem__, "day", file_bytes=10**9, unranged=frozenset())
    (action,) = files.write([rows, rows, pl.DataFrame(schema=rows.schema)])
    assert pl.read_parquet(io.BytesIO(written[action.path]))["n"].to_list() == list(range(10)) * 2


def test_a_frame_larger_than_the_size_limit_is_sliced_into_files():
    written: dict[str, bytes] = {}
    rows = pl.DataFrame({"day": [D1] * 900, "n": range(900)})
    files = PartitionFiles(written.__setitem__, "day", rows.drop("day").estimated_size() // 3, frozenset())
    actions = files.write([rows])
    assert len(actions) == 3
    numbers = [pl.read_parquet(io.BytesIO(written[action.path]))["n"] for action in actions]
    assert [part.len() for part in numbers] == [300, 300, 300]
    assert pl.concat(numbers).to_list() == list(range(900))
