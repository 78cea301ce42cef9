"""Landing files that cannot be read: Bronze keeps the others and names each one; Silver rejects it."""

import datetime as dt
import gzip
import os

import polars as pl
import pytest

from ecom_assets.events.landing import landing_dir, write_landing_file
from ecom_assets.operations.materialize import RunFailedError, materialize_range
from ecom_assets.transforms.bronze import bronze_lines, read_landing_partition, unreadable_file
from ecom_assets.transforms.silver import UNREADABLE_FILE, parse_bronze
from ecom_assets_tests.factories import DAY, event, line

GOOD_LINES = [line(event(n)) for n in range(1, 41)]


def _place(lake, name: str, data: bytes | None) -> str:
    """Put a file (or, for ``None``, a directory) named ``name`` into DAY's landing folder."""
    path = f"{landing_dir(DAY)}/{name}"
    target = f"{lake.uri}/{path}"
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if data is None:
        os.makedirs(target)
    else:
        with open(target, "wb") as file:
            file.write(data)
    return path


def _vanished(lake, name: str) -> str:
    """A listed name whose file is gone by the time it is read: a symlink to nothing."""
    path = f"{landing_dir(DAY)}/{name}"
    os.makedirs(f"{lake.uri}/{landing_dir(DAY)}", exist_ok=True)
    os.symlink(f"{lake.uri}/nowhere.jsonl", f"{lake.uri}/{path}")
    return path


FAULTS = {
    "not gzip": (lambda lake: _place(lake, "b.jsonl.gz", b"no gzip here\n"), "BadGzipFile"),
    "truncated gzip": (
        lambda lake: _place(
            lake, "b.jsonl.gz", gzip.compress(b"\n".join(s.encode() for s in GOOD_LINES))[:60]
        ),
        "EOFError",
    ),
    "zero bytes": (lambda lake: _place(lake, "b.jsonl", b""), "empty file"),
    "a directory": (lambda lake: _place(lake, "b.jsonl", None), "IsADirectoryError"),
    "vanished": (lambda lake: _vanished(lake, "b.jsonl"), "FileNotFoundError"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_an_unreadable_file_is_one_named_reject_and_the_other_files_are_kept(lake, fault):
    write_landing_file(lake, DAY, "a.jsonl", GOOD_LINES)
    make, error = FAULTS[fault]
    bad_path = make(lake)

    bronze = read_landing_partition(lake, DAY)
    assert bronze.filter(pl.col("read_error").is_null()).height == len(GOOD_LINES)
    record = bronze.filter(pl.col("read_error").is_not_null())
    assert record.select("source_file", "line_number", "raw").rows() == [(bad_path, 0, None)]
    assert error in record["read_error"].item()

    parsed = parse_bronze(bronze, late_window_days=3)
    assert parsed.events.height == len(GOOD_LINES)
    assert parsed.rejected.select("source_file", "reason").rows() == [(bad_path, UNREADABLE_FILE)]
    assert error in parsed.rejected["reason_detail"].item()


def test_materialising_again_after_the_file_is_fixed_picks_it_up(lake, monkeypatch):
    monkeypatch.setenv("ECOM_MAX_REJECT_RATE", "0.5")
    write_landing_file(lake, DAY, "a.jsonl", GOOD_LINES[:20])
    bad_path = _place(lake, "b.jsonl.gz", b"no gzip here\n")
    results = materialize_range(DAY, DAY, selection="group:bronze or group:silver or group:gold")

    rejected = lake.read_table("silver/events_rejected")
    assert rejected.select("source_file", "reason").rows() == [(bad_path, UNREADABLE_FILE)]
    assert lake.read_table("silver/events").height == 20
    (bronze_metadata,) = [
        event.materialization.metadata
        for event in results[0].get_asset_materialization_events()
        if event.asset_key.to_user_string() == "bronze/events" and event.partition == DAY.isoformat()
    ]
    assert bronze_metadata["unreadable_files"].value == 1
    assert bad_path in bronze_metadata["unreadable_file_list"].value

    os.remove(f"{lake.uri}/{bad_path}")
    write_landing_file(lake, DAY, "b.jsonl.gz", GOOD_LINES[20:])
    materialize_range(DAY, DAY, selection="group:bronze or group:silver or group:gold")
    assert lake.read_table("silver/events_rejected").height == 0
    assert lake.read_table("silver/events").height == len(GOOD_LINES)
    assert lake.read_table("bronze/events")["read_error"].null_count() == len(GOOD_LINES)


def test_an_unreadable_file_counts_towards_the_reject_rate(lake):
    write_landing_file(lake, DAY, "a.jsonl", [line(event(1))])
    _place(lake, "b.jsonl", b"")
    with pytest.raises(RunFailedError, match="reject_rate_below_threshold"):
        materialize_range(DAY, DAY, selection="group:bronze or group:silver")


def test_a_bronze_table_from_before_read_error_takes_the_new_column(lake):
    older = bronze_lines([line(event(1))], DAY, "a.jsonl", None).drop("read_error")
    lake.write_table("bronze/events", older, "arrival_date", [DAY])
    next_day = DAY + dt.timedelta(days=1)
    lake.write_table(
        "bronze/events", unreadable_file(next_day, "b.jsonl", None, "gone"), "arrival_date", [next_day]
    )
    table = lake.read_table("bronze/events").sort("arrival_date")
    assert table["read_error"].to_list() == [None, "gone"]
