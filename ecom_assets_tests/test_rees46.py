"""The REES46 importer on the real sample and on small hand-made files."""

import csv
import datetime as dt
import gzip
import shutil
import uuid
from collections import Counter
from pathlib import Path

import orjson
import polars as pl
import pytest

from ecom_assets.cli import main
from ecom_assets.events.landing import list_landing_files, read_landing_lines
from ecom_assets.events.rees46 import COLUMNS, ID_NAMESPACE, event_id, import_rees46
from ecom_assets.operations.materialize import materialize_range
from ecom_assets.storage.lake import Lake
from ecom_assets_tests.shared_data import REES46_SAMPLE as SAMPLE
from ecom_assets_tests.shared_data import needs_rees46_sample

OCT_1 = dt.date(2019, 10, 1)
HEADER = ",".join(COLUMNS)


def landed_events(lake: Lake, day: dt.date) -> list[dict]:
    return [
        orjson.loads(line)
        for path in list_landing_files(lake, day)
        for line in read_landing_lines(lake, path)
    ]


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


@needs_rees46_sample
def test_sample_lands_every_complete_row_and_keeps_the_truncated_last_line(lake):
    summary = import_rees46(lake, [SAMPLE], progress=False)

    events = landed_events(lake, OCT_1)
    assert (summary.rows, summary.events, summary.rejected_rows) == (17_435, 17_434, 1)
    assert len(events) == 17_434 and summary.events_by_date == {OCT_1: 17_434}
    assert Counter(event["event_type"] for event in events) == {
        "product_view": 17_055,
        "add_to_cart": 165,
        "purchase": 214,
    }
    # Three rows of the sample are exact repeats within their second: distinct events, distinct ids.
    assert len({event["event_id"] for event in events}) == 17_434
    assert summary.reject_examples == [f"{SAMPLE}:17436: expected 9 fields, found 8"]
    (rejects,) = summary.reject_files
    kept = orjson.loads(lake.read_bytes(rejects))
    assert (
        kept["line_number"] == 17_436
        and kept["reason"] == "malformed"
        and kept["raw"].endswith(",elenberg,25.71,52040330")
    )


@needs_rees46_sample
def test_sample_event_fields_follow_the_contract(lake):
    import_rees46(lake, [SAMPLE], progress=False)

    events = landed_events(lake, OCT_1)
    purchase = next(event for event in events if event["event_type"] == "purchase")
    assert purchase["order_id"] == f"rees46-{purchase['session_id']}"
    assert purchase["anonymous_id"] == f"rees46-{purchase['customer_id']}"
    assert purchase["quantity"] == 1 and purchase["currency"] == "USD"
    first = events[0]
    assert first["event_ts"] == "2019-10-01T00:00:00Z" and first["brand"] == "shiseido"
    assert first["category"] == "2103807459595387724"  # no category_code: the category id stands in
    assert "quantity" not in first and "order_id" not in first


@needs_rees46_sample
def test_reimport_of_a_renamed_compressed_copy_gives_the_same_event_ids(lake, tmp_path):
    import_rees46(lake, [SAMPLE], progress=False)
    first_ids = {event["event_id"] for event in landed_events(lake, OCT_1)}
    copy = tmp_path / "2019-Oct-head.csv.gz"
    with SAMPLE.open("rb") as source, gzip.open(copy, "wb") as target:
        shutil.copyfileobj(source, target)

    other = Lake(str(tmp_path / "other"))
    import_rees46(other, [copy], progress=False)

    assert {event["event_id"] for event in landed_events(other, OCT_1)} == first_ids


@pytest.mark.parametrize("identity", ["", "2019-10-01 00:00:00 UTC,view,1,7,,,1,42,s#0", "Ünïcode,ß#3" * 9])
def test_event_ids_are_exactly_uuid5_of_the_row_identity(identity):
    assert event_id(identity) == str(uuid.uuid5(ID_NAMESPACE, identity))


@needs_rees46_sample
def test_sample_imports_into_a_lake_on_azure_storage(azure_lake):
    summary = import_rees46(azure_lake, [SAMPLE], progress=False)

    assert len(landed_events(azure_lake, OCT_1)) == summary.events == 17_434
    assert orjson.loads(azure_lake.read_bytes(summary.reject_files[0]))["line_number"] == 17_436


@needs_rees46_sample
def test_reimport_overwrites_its_own_landing_files(lake):
    import_rees46(lake, [SAMPLE], progress=False)
    import_rees46(lake, [SAMPLE], progress=False)

    assert len(landed_events(lake, OCT_1)) == 17_434


def test_large_files_are_written_in_bounded_parts_by_event_date(lake, tmp_path):
    rows = [f"2019-10-0{1 + i // 5} 23:59:{i:02d} UTC,cart,{i},7,,,1.50,{i},s{i}" for i in range(10)]
    source = write_csv(tmp_path / "two-days.csv", rows)

    summary = import_rees46(lake, [source], progress=False, chunk_rows=3)

    assert summary.events_by_date == {OCT_1: 5, dt.date(2019, 10, 2): 5}
    assert all(len(read_landing_lines(lake, path)) <= 3 for path in summary.landing_files)
    assert len(landed_events(lake, OCT_1)) == 5 and len(landed_events(lake, dt.date(2019, 10, 2))) == 5


def test_every_malformed_line_is_kept_with_its_line_number_and_reason(lake, tmp_path):
    good = "2019-10-01 10:00:00 UTC,purchase,1,7,,acme,9.99,42,s1"
    rows = [
        good,
        "yesterday,view,1,7,,,1.0,42,s1",
        "2019-10-01 10:00:01 UTC,wishlist,1,7,,,1.0,42,s1",
        "2019-10-01 10:00:02 UTC,view,1,7,,,cheap,42,s1",
        '2019-10-01 10:00:03 UTC,view,1,7,"kitchen,mixer",,2.0,42,s1',
        "",
        "2019-10-01 10:00:04 UTC,view,1",
    ]
    source = write_csv(tmp_path / "bad.csv", rows)

    summary = import_rees46(lake, [source], progress=False)

    assert (summary.rows, summary.events, summary.rejected_rows) == (6, 2, 4)
    reasons = [line.split(": ", 1)[1] for line in summary.reject_examples]
    assert [line.split(":")[1] for line in summary.reject_examples] == ["3", "4", "5", "8"]
    assert reasons[0].startswith("event_time 'yesterday'") and "wishlist" in reasons[1]
    assert reasons[2].startswith("price 'cheap'") and reasons[3] == "expected 9 fields, found 3"
    assert [event.get("category") for event in landed_events(lake, OCT_1)] == ["7", "kitchen,mixer"]
    kept = lake.read_bytes(summary.reject_files[0]).decode().splitlines()
    assert [orjson.loads(line)["raw"] for line in kept] == [rows[1], rows[2], rows[3], rows[6]]


def test_a_file_that_is_not_rees46_is_refused_by_name(lake, tmp_path):
    source = tmp_path / "orders.csv"
    source.write_text("order_id,amount\n1,2\n")

    with pytest.raises(ValueError, match="orders.csv: header"):
        import_rees46(lake, [source], progress=False)


@needs_rees46_sample
def test_cli_imports_into_the_configured_lake_and_reports_malformed_lines(tmp_path, capsys):
    main(["import-rees46", str(SAMPLE)])

    out, err = capsys.readouterr()
    assert out.startswith("imported 17,434 events from 17,435 rows")
    assert f"{SAMPLE}:17436: expected 9 fields" in err
    assert len(landed_events(Lake(str(tmp_path / "lake")), OCT_1)) == 17_434


def test_cli_names_a_missing_file(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["import-rees46", "no-such.csv"])

    assert exit_info.value.code == 2
    assert "REES46 file no-such.csv does not exist" in capsys.readouterr().err


def complete_sample_rows() -> list[dict]:
    """The oracle: the sample's complete rows, read with the csv module independently of the importer."""
    with SAMPLE.open(newline="") as source:
        return [row for row in csv.DictReader(source) if row["user_session"] is not None]


@needs_rees46_sample
def test_sample_flows_through_to_gold_with_exact_counts(lake):
    rows = complete_sample_rows()
    purchases = [row for row in rows if row["event_type"] == "purchase"]
    import_rees46(lake, [SAMPLE], progress=False)

    materialize_range(OCT_1, OCT_1, selection="group:bronze or group:silver or group:gold")

    facts = lake.read_table("gold/fact_events")
    assert lake.read_table("bronze/events").height == 17_434
    assert lake.read_table("silver/events_rejected").height == 0
    assert facts.height == len(rows) == 17_434
    assert facts["customer_id"].n_unique() == len({row["user_id"] for row in rows})
    assert lake.read_table("gold/dim_customer").height == len({row["user_id"] for row in rows})
    assert facts.filter(pl.col("event_type") == "purchase")["order_id"].n_unique() == len(
        {row["user_session"] for row in purchases}
    )
    assert facts["revenue"].sum() == pytest.approx(sum(float(row["price"]) for row in purchases))
    assert (facts["event_date"] == OCT_1).all()


@pytest.mark.parametrize(
    "content",
    [b"not gzip at all", gzip.compress(HEADER.encode() + b"\n", mtime=0)[:25]],
    ids=["not-gzip", "truncated-gzip"],
)
def test_a_damaged_gzip_is_one_line_naming_the_file(tmp_path, capsys, content):
    damaged = tmp_path / "2019-Oct.csv.gz"
    damaged.write_bytes(content)
    with pytest.raises(SystemExit) as exit_info:
        main(["import-rees46", str(damaged)])
    assert exit_info.value.code == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert f"{damaged}: unreadable after 0 rows" in line
