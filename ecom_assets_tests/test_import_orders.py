"""The order-lines importer on hand-written CSV and Parquet files."""

import csv
import datetime as dt
import gzip
import shutil
from collections import Counter
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ecom_assets.cli import main
from ecom_assets.events.importing import MAX_EXAMPLES
from ecom_assets.events.landing import list_landing_files, read_landing_lines
from ecom_assets.events.orders import LineOccurrences, import_orders
from ecom_assets.operations.materialize import materialize_range
from ecom_assets.storage.lake import Lake

HEADER = ["order_id", "customer_id", "ordered_at", "product_id", "quantity", "unit_price"]
MARCH_2 = dt.date(2026, 3, 2)
UCI_HEADER = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
UCI_MAP = [
    "order_id=InvoiceNo",
    "product_id=StockCode",
    "quantity=Quantity",
    "ordered_at=InvoiceDate",
    "unit_price=UnitPrice",
    "customer_id=CustomerID",
    "country=Country",
]


def write_csv(path: Path, header: list[str], rows: list[list]) -> Path:
    with path.open("w", newline="") as target:
        csv.writer(target).writerows([header, *rows])
    return path


def landed(lake: Lake, *days: dt.date) -> list[dict]:
    return [
        orjson.loads(line)
        for day in days
        for path in list_landing_files(lake, day)
        for line in read_landing_lines(lake, path)
    ]


def kept(lake: Lake, paths: list[str]) -> list[dict]:
    return [orjson.loads(line) for path in paths for line in lake.read_bytes(path).decode().splitlines()]


def test_order_lines_become_contract_purchase_events(lake, tmp_path):
    header = [*HEADER, "category", "brand", "country", "currency"]
    rows = [
        ["A1", "c7", "2026-03-02 09:15:00", "p1", "2", "3.50", "tea", "acme", "DE", ""],
        ["A1", "c7", "2026-03-02 09:15:00", "p2", "1", "0", "", "", "", "usd"],
        ["B2", "c8", "2026-03-03T18:00:00Z", "p1", "5", "3.5", "tea", "", "FR", "EUR"],
    ]
    source = write_csv(tmp_path / "orders.csv", header, rows)

    summary = import_orders(lake, [source], progress=False)

    assert (summary.rows, summary.events, summary.returns, summary.rejected_rows) == (3, 3, 0, 0)
    assert summary.events_by_date == {MARCH_2: 2, dt.date(2026, 3, 3): 1}
    first, free, other_day = landed(lake, MARCH_2, dt.date(2026, 3, 3))
    assert {key: value for key, value in first.items() if key != "event_id"} == {
        "event_type": "purchase",
        "event_ts": "2026-03-02T09:15:00Z",
        "session_id": "order-A1",
        "anonymous_id": "customer-c7",
        "customer_id": "c7",
        "order_id": "A1",
        "product_id": "p1",
        "quantity": 2,
        "price": 3.5,
        "currency": "EUR",
        "schema_version": 1,
        "category": "tea",
        "brand": "acme",
        "country": "DE",
    }
    assert free["price"] == 0.0 and free["currency"] == "USD" and "category" not in free
    assert other_day["event_ts"] == "2026-03-03T18:00:00Z" and other_day["quantity"] == 5
    assert len({first["event_id"], free["event_id"], other_day["event_id"]}) == 3
    assert all(path.startswith("landing/events/date=2026-03-0") for path in summary.landing_files)


def test_every_unusable_row_is_kept_with_its_line_and_reason(lake, tmp_path):
    header = [*HEADER, "currency"]
    good = ["A1", "c7", "2026-03-02 10:00", "p1", "1", "2.0", ""]
    rows = [
        good,
        ["A1", "c7", "2026-03-02 10:00", "p1"],  # line 3
        ["A2", "", "2026-03-02 10:00", "p1", "1", "2.0", ""],
        ["A3", "c7", "", "p1", "1", "2.0", ""],
        ["A4", "c7", "yesterday", "p1", "1", "2.0", ""],  # line 6
        ["A5", "c7", "2026-03-02 10:00", "p1", "", "2.0", ""],
        ["A6", "c7", "2026-03-02 10:00", "p1", "2.5", "2.0", ""],
        ["A7", "c7", "2026-03-02 10:00", "p1", "two", "2.0", ""],
        ["A8", "c7", "2026-03-02 10:00", "p1", "0", "2.0", ""],  # line 10
        ["A9", "c7", "2026-03-02 10:00", "p1", "1", "cheap", ""],
        ["A10", "c7", "2026-03-02 10:00", "p1", "1", "-1.5", ""],
        ["A11", "c7", "2026-03-02 10:00", "p1", "1", "2.0", "euro"],
        ["A12", "c7", "2026-03-02 10:00", "", "1", "2.0", ""],
        ["", "c7", "2026-03-02 10:00", "p1", "1", "2.0", ""],  # line 15
        ["A13", "c7", "2026-03-02 10:00", "p1", "-3", "2.0", ""],
        ["A13", "", "", "p1", "-1", "cheap", ""],  # a negative quantity is a return whatever else is wrong
        ["A14", "c7", "2026-03-02 10:00", "p1", "1", "", ""],
        ["A15", "c7", "2026-03-02 10:00", "p1", "99999999999999999999", "2.0", ""],  # beyond 64 bits too
    ]
    source = write_csv(tmp_path / "bad.csv", header, rows)

    summary = import_orders(lake, [source], progress=False)

    assert summary.rejected == {
        "wrong_field_count": 1,
        "missing_customer_id": 1,
        "missing_ordered_at": 1,
        "invalid_timestamp": 1,
        "missing_quantity": 1,
        "invalid_quantity": 3,
        "zero_quantity": 1,
        "invalid_price": 1,
        "negative_price": 1,
        "invalid_currency": 1,
        "missing_product_id": 1,
        "missing_order_id": 1,
        "missing_unit_price": 1,
    }
    assert (summary.rows, summary.events, summary.returns, summary.rejected_rows) == (18, 1, 2, 15)
    assert summary.reject_examples[0] == f"{source}:3: expected 7 fields, found 4"
    assert f"{source}:6: ordered_at 'yesterday' is not an ISO 8601 time" in summary.reject_examples
    assert f"{source}:10: quantity is 0" in summary.reject_examples
    assert f"{source}:19: quantity '99999999999999999999' is above 2147483647" in summary.reject_examples
    rejects = kept(lake, summary.reject_files)
    assert [record["line_number"] for record in rejects] == [*range(3, 16), 18, 19]
    assert rejects[0]["raw"] == rows[1] and rejects[1]["raw"]["order_id"] == "A2"
    assert rejects[1]["reason"] == "missing_customer_id" and rejects[1]["detail"] == "customer_id is empty"
    returns = kept(lake, summary.return_files)
    assert [(record["line_number"], record["reason"]) for record in returns] == [
        (16, "return"),
        (17, "return"),
    ]
    assert summary.return_files == ["imports/orders/bad/returns-00000.jsonl"]
    assert [event["order_id"] for event in landed(lake, MARCH_2)] == ["A1"]
    assert "2 return(s) or cancellation(s) kept in" in str(summary)
    assert "15 rejected row(s) (invalid_currency 1, invalid_price 1, invalid_quantity 3," in str(summary)


def test_a_quoted_line_break_keeps_the_line_numbers_of_later_rows(lake, tmp_path):
    source = tmp_path / "multiline.csv"
    source.write_text(
        "order_id,customer_id,ordered_at,product_id,quantity,unit_price,category\n"
        'A1,c1,2026-03-02 10:00,p1,1,1.0,"two\nlines"\n'
        "\n"
        "A2,c1,2026-03-02 10:00,p1,0,1.0,\n"
    )

    summary = import_orders(lake, [source], progress=False)

    assert summary.reject_examples == [f"{source}:5: quantity is 0"]
    assert landed(lake, MARCH_2)[0]["category"] == "two\nlines"


@pytest.mark.parametrize(
    ("ordered_at", "timezone", "event_ts"),
    [
        ("2026-03-02 23:30:00", "UTC", "2026-03-02T23:30:00Z"),
        ("2026-03-03T00:30:00+01:00", "UTC", "2026-03-02T23:30:00Z"),
        ("2026-03-03T00:30:00+01:00", "Europe/Berlin", "2026-03-02T23:30:00Z"),
        ("2026-03-03 00:30:00", "Europe/Berlin", "2026-03-02T23:30:00Z"),  # CET, UTC+1
        ("2026-07-03 01:30:00.250", "Europe/Berlin", "2026-07-02T23:30:00.250000Z"),  # CEST, UTC+2
        ("2026-03-02", "UTC", "2026-03-02T00:00:00Z"),
    ],
)
def test_times_without_an_offset_are_in_the_given_zone_and_land_on_their_utc_date(
    lake, tmp_path, ordered_at, timezone, event_ts
):
    source = write_csv(tmp_path / "orders.csv", HEADER, [["A1", "c1", ordered_at, "p1", "1", "1.0"]])

    summary = import_orders(lake, [source], timezone=timezone, progress=False)

    day = dt.date.fromisoformat(event_ts[:10])
    assert summary.events_by_date == {day: 1}
    assert [event["event_ts"] for event in landed(lake, day)] == [event_ts]


def test_uci_online_retail_columns_through_map(lake, tmp_path):
    rows = [
        ["536365", "85123A", "WHITE HANGING HEART", "6", "3/2/2026 8:26", "2.55", "17850", "United Kingdom"],
        ["536365", "71053", "WHITE METAL LANTERN", "6", "3/2/2026 8:26", "3.39", "17850", "United Kingdom"],
        ["C536379", "D", "Discount", "-1", "3/2/2026 9:41", "27.5", "14527", "United Kingdom"],
        ["536414", "22139", "", "56", "3/2/2026 11:52", "0", "", "United Kingdom"],
        ["536415", "22139", "", "56", "2026-03-02 11:52", "0", "1", "United Kingdom"],
    ]
    source = write_csv(tmp_path / "online_retail.csv", UCI_HEADER, rows)

    summary = import_orders(lake, [source], mapping=UCI_MAP, time_format="%m/%d/%Y %H:%M", progress=False)

    assert (summary.events, summary.returns) == (2, 1)
    assert summary.rejected == {"missing_customer_id": 1, "invalid_timestamp": 1}
    assert summary.reject_examples == [
        f"{source}:5: customer_id (column CustomerID) is empty",
        f"{source}:6: ordered_at (column InvoiceDate) '2026-03-02 11:52' is not in --time-format "
        "'%m/%d/%Y %H:%M'",
    ]
    events = landed(lake, MARCH_2)
    assert [(e["order_id"], e["product_id"], e["customer_id"]) for e in events] == [
        ("536365", "85123A", "17850"),
        ("536365", "71053", "17850"),
    ]
    assert events[0]["event_ts"] == "2026-03-02T08:26:00Z" and events[0]["price"] == 2.55
    assert events[0]["country"] == "United Kingdom"
    assert kept(lake, summary.return_files)[0]["raw"]["Description"] == "Discount"


def write_parquet(path: Path, columns: dict) -> Path:
    pq.write_table(pa.table(columns), path, row_group_size=2)
    return path


def test_parquet_columns_keep_their_types(lake, tmp_path):
    berlin = pa.timestamp("us", tz="Europe/Berlin")
    columns = {
        "order_id": [1001, 1001, 1002, 1003],
        "customer_id": [17850.0, 17850.0, float("nan"), 12.0],  # pandas writes ids with gaps as floats
        "ordered_at": [dt.datetime(2026, 3, 2, 9, 0)] * 3 + [dt.datetime(2026, 3, 2, 22, 0)],
        "product_id": ["p1", "p1", "p2", "p3"],
        "quantity": [2, 1, 1, -4],
        "unit_price": [1.25, 1.25, 9.0, 3.0],
    }
    source = write_parquet(tmp_path / "orders.parquet", columns)
    # a zoned column holds UTC instants: 09:00 UTC, shown as 10:00 in Berlin
    zoned_time = pa.array([dt.datetime(2026, 3, 2, 9, 0)]).cast(berlin)
    one_row = {name: values[:1] for name, values in columns.items()}
    zoned = write_parquet(
        tmp_path / "zoned.parquet", {**one_row, "order_id": ["Z1"], "ordered_at": zoned_time}
    )

    summary = import_orders(lake, [source, zoned], timezone="America/New_York", progress=False)

    assert (summary.rows, summary.events, summary.returns, summary.rejected) == (
        5,
        3,
        1,
        {"missing_customer_id": 1},
    )
    assert summary.reject_examples == [f"{source}:3: customer_id is empty"]
    events = landed(lake, MARCH_2)
    assert [(e["order_id"], e["customer_id"], e["quantity"], e["event_ts"]) for e in events] == [
        ("1001", "17850", 2, "2026-03-02T14:00:00Z"),  # a naive timestamp column is read in --timezone
        ("1001", "17850", 1, "2026-03-02T14:00:00Z"),
        ("Z1", "17850", 2, "2026-03-02T09:00:00Z"),  # a zoned one is converted
    ]
    assert events[0]["event_id"] != events[1]["event_id"]  # the same product twice in one order: two lines


def test_reimport_of_the_same_orders_gives_the_same_event_ids(lake, tmp_path):
    rows = [
        ["A1", "c1", "2026-03-02 10:00", "p1", "1", "1.0"],
        ["A1", "c1", "2026-03-02 10:00", "p1", "1", "1.0"],
        ["A1", "c1", "2026-03-02 10:00", "p2", "3", "1.0"],
        ["B1", "c2", "2026-03-02 11:00", "p1", "1", "1.0"],
    ]
    first = write_csv(tmp_path / "orders.csv", HEADER, rows)
    import_orders(lake, [first], progress=False)
    ids = [event["event_id"] for event in landed(lake, MARCH_2)]
    # The same orders in another file: other name, compressed, another column order, orders reversed.
    other = write_csv(
        tmp_path / "export.csv", [*reversed(HEADER), "note"], [[*row[::-1], "x"] for row in rows[::-1]]
    )
    with other.open("rb") as plain, gzip.open(tmp_path / "export-2026.csv.gz", "wb") as packed:
        shutil.copyfileobj(plain, packed)
    other_lake = Lake(str(tmp_path / "other"))

    import_orders(other_lake, [tmp_path / "export-2026.csv.gz"], progress=False)

    assert len(set(ids)) == 4
    assert sorted(event["event_id"] for event in landed(other_lake, MARCH_2)) == sorted(ids)


def test_lines_of_a_product_are_counted_per_order_over_the_orders_remembered():
    occurrences = LineOccurrences(orders=2)

    counted = [occurrences.next(order, "p1") for order in ("A", "B", "A", "C", "A", "B", "C")]

    # Two orders remembered: C pushes out B (A was seen later), B back pushes out C, C back pushes out A.
    assert counted == [0, 0, 1, 0, 2, 0, 0]
    assert (occurrences.next("C", "p1"), occurrences.next("C", "p2")) == (1, 0)


def test_imported_events_pass_silver_validation_and_a_reimport_lands_once(lake, tmp_path):
    rows = [
        ["A1", "c1", "2026-03-02 10:00", "p1", "2", "4.5"],
        ["A1", "c1", "2026-03-02 10:00", "p2", "1", "0"],
        ["A2", "c2", "2026-03-03T08:00:00+02:00", "p1", "1", "4.5"],
        ["A3", "c1", "2026-03-03 21:00", "p3", "-1", "4.5"],
    ]
    import_orders(lake, [write_csv(tmp_path / "march.csv", HEADER, rows)], progress=False)
    table = {name: [row[index] for row in rows] for index, name in enumerate(HEADER)}
    import_orders(lake, [write_parquet(tmp_path / "march-copy.parquet", table)], progress=False)

    materialize_range(MARCH_2, dt.date(2026, 3, 3), selection="group:bronze or group:silver")

    assert lake.read_table("bronze/events").height == 6
    assert lake.read_table("silver/events_rejected").height == 0
    silver = lake.read_table("silver/events")
    assert silver.height == 3 and set(silver["event_type"]) == {"purchase"}
    assert Counter(silver["event_date"].to_list()) == {MARCH_2: 2, dt.date(2026, 3, 3): 1}
    assert silver["quantity"].sum() == 4 and silver["customer_id"].n_unique() == 2


def test_cli_names_the_missing_column_and_the_map_that_fixes_it(tmp_path, capsys):
    source = write_csv(tmp_path / "orders.csv", UCI_HEADER, [])

    with pytest.raises(SystemExit) as exit_info:
        main(["import-orders", str(source), *(f"--map={pair}" for pair in UCI_MAP if "customer" not in pair)])

    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        f"ecom import-orders: error: {source}: no column 'customer_id'; columns are InvoiceNo, "
        "StockCode, Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country; "
        "pass --map customer_id=<column>\n"
    )


def test_a_file_with_a_missing_column_stops_the_import_before_anything_lands(lake, tmp_path):
    good = write_csv(tmp_path / "a.csv", HEADER, [["A1", "c1", "2026-03-02 10:00", "p1", "1", "1.0"]])
    bad = write_csv(tmp_path / "b.csv", HEADER[:-1], [])

    with pytest.raises(ValueError, match="b.csv: no column 'unit_price'"):
        import_orders(lake, [good, bad], progress=False)

    assert landed(lake, MARCH_2) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--map", "customer_id"], "--map 'customer_id': expected FIELD=COLUMN"),
        (["--map", "colour=Color"], "--map 'colour=Color': no field 'colour'; the fields are order_id,"),
        (["--map", "order_id=A", "--map", "order_id=B"], "--map order_id: given twice"),
        (["--timezone", "Mars/Olympus"], "--timezone 'Mars/Olympus': not a time zone"),
    ],
)
def test_cli_refuses_a_bad_option_in_one_line(tmp_path, capsys, arguments, message):
    source = write_csv(tmp_path / "orders.csv", HEADER, [])

    with pytest.raises(SystemExit) as exit_info:
        main(["import-orders", str(source), *arguments])

    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.count("\n") == 1
    assert err.startswith(f"ecom import-orders: error: {message}")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("orders.xlsx", "not a .csv, .csv.gz or .parquet file"),
        ("x.parquet", "not a readable Parquet file"),
        ("plain.csv.gz", "not a readable CSV file (Not a gzipped file"),
    ],
)
def test_cli_refuses_a_file_it_cannot_read(tmp_path, capsys, name, message):
    (tmp_path / name).write_text("order_id\n")

    with pytest.raises(SystemExit) as exit_info:
        main(["import-orders", str(tmp_path / name)])

    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_cli_prints_rejects_up_to_a_cap_and_the_summary(tmp_path, capsys):
    rows = [["A0", "c1", "2026-03-02 10:00", "p1", "1", "1.0"]]
    rows += [[f"A{n}", "c1", "2026-03-02 10:00", "p1", "0", "1.0"] for n in range(1, MAX_EXAMPLES + 6)]
    source = write_csv(tmp_path / "orders.csv", HEADER, rows)

    main(["import-orders", str(source)])

    out, err = capsys.readouterr()
    assert err.splitlines()[0] == f"{source}:3: quantity is 0"
    assert err.splitlines()[MAX_EXAMPLES:] == ["... and 5 more"]
    lake_uri = str((tmp_path / "lake").resolve())
    assert out.splitlines() == [
        "imported 1 events from 26 rows of 1 file(s) into 1 landing file(s) over 1 day(s) "
        "(2026-03-02 to 2026-03-02)",
        f"25 rejected row(s) (zero_quantity 25) kept in {lake_uri}/imports/orders/orders/rejects-00000.jsonl",
    ]
    assert len(kept(Lake(lake_uri), ["imports/orders/orders/rejects-00000.jsonl"])) == 25


def test_cli_points_at_the_partition_start_for_older_orders(tmp_path, capsys):
    source = write_csv(tmp_path / "orders.csv", HEADER, [["A1", "c1", "2010-12-01 08:26", "p1", "1", "1.0"]])

    main(["import-orders", str(source)])

    assert "set ECOM_PARTITIONS_START=2010-12-01" in capsys.readouterr().out


def test_a_file_that_breaks_off_is_one_error_naming_it(lake, tmp_path):
    rows = [[f"A{n}", "c1", "2026-03-02 10:00", f"p{n}", "1", "1.0"] for n in range(20_000)]
    packed = gzip.compress(write_csv(tmp_path / "orders.csv", HEADER, rows).read_bytes())
    truncated = tmp_path / "truncated.csv.gz"
    truncated.write_bytes(packed[: len(packed) // 2])

    with pytest.raises(
        ValueError, match=r"truncated.csv.gz: unreadable after its first rows \(Compressed file"
    ):
        import_orders(lake, [truncated], progress=False)
