"""The lake: atomic partition replacement, refusal of stray rows, whole-file writes."""

import datetime as dt
import io

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable

from ecom_assets.storage.lake import Lake, TableNotFoundError

D1, D2, D3 = dt.date(2026, 10, 1), dt.date(2026, 10, 2), dt.date(2026, 10, 3)


def frame(day: dt.date, values: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"day": [day] * len(values), "value": values})


def delta_table(lake: Lake, key: str) -> DeltaTable:
    return DeltaTable(lake.table_uri(key), storage_options=lake.storage_options or None)


def parquet_columns(lake: Lake, key: str) -> dict:
    """The column chunks of the table's only data file, by column name."""
    (path,) = pa.table(delta_table(lake, key).get_add_actions(flatten=True))["path"].to_pylist()
    row_group = pq.ParquetFile(io.BytesIO(lake.read_bytes(f"{key}/{path}"))).metadata.row_group(0)
    return {row_group.column(i).path_in_schema: row_group.column(i) for i in range(row_group.num_columns)}


def test_rewriting_a_partition_replaces_exactly_it(lake):
    lake.write_table("t/x", pl.concat([frame(D1, [1]), frame(D2, [2, 3])]), "day", [D1, D2])
    lake.write_table("t/x", frame(D2, [4]), "day", [D2])
    lake.write_table("t/x", frame(D2, [4]), "day", [D2])
    assert lake.read_table("t/x").sort("value")["value"].to_list() == [1, 4]
    assert lake.read_table("t/x", "day", [D2])["value"].to_list() == [4]


def test_a_partition_with_no_rows_is_emptied(lake):
    lake.write_table("t/x", pl.concat([frame(D1, [1]), frame(D2, [2])]), "day", [D1, D2])
    lake.write_table("t/x", frame(D2, []), "day", [D2, D3])
    assert lake.read_table("t/x")["value"].to_list() == [1]


def test_a_stream_replaces_exactly_its_partitions_and_empties_those_it_has_no_rows_for(lake):
    lake.write_table("t/x", pl.concat([frame(D1, [1]), frame(D2, [2]), frame(D3, [3])]), "day", [D1, D2, D3])
    schema = frame(D1, [1]).schema
    nothing = pl.DataFrame(schema=schema)
    lake.write_table_stream("t/x", [frame(D2, [4]), frame(D2, [5]), nothing], schema, "day", [D2, D3])
    assert lake.read_table("t/x").sort("day", "value").rows() == [(D1, 1), (D2, 4), (D2, 5)]
    lake.write_table_stream("t/x", [pl.concat([frame(D2, [6]), frame(D1, [7])])], schema, "day", [D1, D2])
    assert lake.read_table("t/x").sort("day").rows() == [(D1, 7), (D2, 6)]


def test_a_stream_that_adds_a_column_joins_it_to_the_schema(lake):
    lake.write_table("t/x", frame(D1, [1]), "day", [D1])
    wider = frame(D2, [2]).with_columns(arm=pl.lit("challenger"))
    lake.write_table_stream("t/x", [wider], wider.schema, "day", [D2])
    assert lake.read_table("t/x").sort("day").select("value", "arm").rows() == [(1, None), (2, "challenger")]


def test_rows_outside_the_partitions_being_written_are_refused(lake):
    lake.write_table("t/x", frame(D1, [1]), "day", [D1])
    with pytest.raises(ValueError, match="outside the partitions"):
        lake.write_table("t/x", frame(D2, [2]), "day", [D1])
    assert lake.read_table("t/x")["value"].to_list() == [1]


def test_a_column_added_later_joins_the_schema_and_reads_null_in_older_partitions(lake):
    lake.write_table("t/x", frame(D1, [1]), "day", [D1])
    lake.write_table("t/x", frame(D2, [2]).with_columns(arm=pl.lit("challenger")), "day", [D2])
    assert lake.read_table("t/x").sort("day").select("value", "arm").rows() == [(1, None), (2, "challenger")]


def test_files_are_zstd_and_landing_lines_get_no_dictionary_or_statistics(lake):
    rows = pl.DataFrame({"day": [D1] * 3, "raw": ['{"a":1}', '{"a":2}', '{"a":3}'], "kind": ["x"] * 3})
    lake.write_table("t/lines", rows, "day", [D1])
    columns = parquet_columns(lake, "t/lines")
    assert {column.compression for column in columns.values()} == {"ZSTD"}
    assert not any("DICTIONARY" in encoding for encoding in columns["raw"].encodings)
    assert columns["raw"].statistics is None
    assert "RLE_DICTIONARY" in columns["kind"].encodings and columns["kind"].statistics is not None


def test_streamed_partitions_are_zstd_files_with_delta_statistics_and_no_range_of_landing_lines(lake):
    lines = [f'{{"event":{number},"payload":"{"x" * (number % 50)}"}}' for number in range(2000)]
    rows = pl.DataFrame({"day": [D1] * 2000, "raw": lines, "kind": ["x", "y"] * 1000})
    lake.write_table_stream("t/lines", [rows], rows.schema, "day", [D1])
    columns = parquet_columns(lake, "t/lines")
    assert set(columns) == {"raw", "kind"}, "the partition value lives in the path, as Delta has it"
    assert {column.compression for column in columns.values()} == {"ZSTD"}
    assert not any("DICTIONARY" in encoding for encoding in columns["raw"].encodings)
    actions = pa.table(delta_table(lake, "t/lines").get_add_actions(flatten=True))
    stats = pl.DataFrame(actions).row(0, named=True)
    assert stats["num_records"] == 2000 and stats["null_count.raw"] == 0
    assert (stats["min.kind"], stats["max.kind"]) == ("x", "y")
    assert stats.get("min.raw") is None and stats.get("max.raw") is None


def test_a_stream_names_the_version_it_committed_and_fingerprints_read_at_that_version(lake):
    lake.write_table("t/x", frame(D1, [1]), "day", [D1])
    first = lake.write_table_stream("t/x", [frame(D2, [2])], frame(D2, [2]).schema, "day", [D2])
    at_first = lake.partition_fingerprints("t/x", "day", first)
    second = lake.write_table_stream("t/x", [frame(D2, [3])], frame(D2, [3]).schema, "day", [D2])
    assert second == first + 1 == delta_table(lake, "t/x").version()
    assert lake.partition_fingerprints("t/x", "day", first) == at_first
    latest = lake.partition_fingerprints("t/x", "day")
    assert latest[D1] == at_first[D1] and latest[D2] != at_first[D2]


def test_missing_table_names_itself(lake):
    with pytest.raises(TableNotFoundError, match="silver/events"):
        lake.read_table("silver/events")


def test_files_are_written_whole_and_listed_without_staging_names(lake):
    lake.write_bytes("landing/events/date=2026-10-01/a.jsonl", b"x\n")
    lake.write_bytes("landing/events/date=2026-10-01/a.jsonl", b"y\n")
    assert lake.read_bytes("landing/events/date=2026-10-01/a.jsonl") == b"y\n"
    assert lake.list_files("landing/events/date=2026-10-01") == ["landing/events/date=2026-10-01/a.jsonl"]
    assert lake.list_files("landing/events/date=2026-10-09") == []


def test_a_first_write_that_loses_the_race_to_create_the_table_replaces_only_its_partition(lake, monkeypatch):
    lake.write_table("t/x", frame(D1, [1]), "day", [D1])
    # The second writer looked before the first one created the table: it saw none, creates it (nothing
    # to do) and replaces its own partition, not the first writer's.
    answers = iter([False])
    real_exists = type(lake).table_exists
    monkeypatch.setattr(type(lake), "table_exists", lambda self, key: next(answers, real_exists(self, key)))
    lake.write_table("t/x", frame(D2, [2]), "day", [D2])
    assert lake.read_table("t/x").sort("value")["value"].to_list() == [1, 2]
