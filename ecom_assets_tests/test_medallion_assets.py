"""The medallion assets through Dagster on a temporary lake: reconciliation, idempotency, blocking checks."""

import datetime as dt
import threading
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from ecom_assets.defs.resources import build_resources
from ecom_assets.events.landing import write_landing_file
from ecom_assets.events.simulator import FaultRates, simulate
from ecom_assets.operations.materialize import RunFailedError, materialize_range
from ecom_assets_tests.factories import event, line

START = dt.date(2026, 10, 1)
END = dt.date(2026, 10, 4)
MEDALLION = (
    "bronze/events",
    "silver/events",
    "silver/events_rejected",
    "gold/fact_events",
    "gold/dim_customer",
)
FAULTY = FaultRates(
    duplicate=0.03,
    late=0.05,
    bad_json=0.004,
    missing_field=0.004,
    wrong_type=0.004,
    unknown_event_type=0.004,
    negative_price=0.004,
)


@pytest.fixture
def simulated_lake(lake, monkeypatch):
    """Four days of simulator traffic with every fault on, materialised end to end."""
    monkeypatch.setenv("ECOM_MAX_REJECT_RATE", "0.2")
    summary = simulate(lake, START, days=4, customers=150, seed=11, faults=FAULTY, progress=False)
    materialize_range(START, END, selection="group:bronze or group:silver or group:gold")
    return lake, summary


def lineage(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select("arrival_date", "source_file", "line_number")


def test_every_bronze_line_is_one_silver_row_one_reject_or_one_duplicate(simulated_lake):
    lake, summary = simulated_lake
    bronze = lake.read_table("bronze/events")
    silver = lake.read_table("silver/events")
    rejected = lake.read_table("silver/events_rejected")
    assert bronze.height == summary.lines
    accounted = pl.concat([lineage(silver), lineage(rejected)])
    assert accounted.is_duplicated().sum() == 0, "a line is both a Silver row and a reject"
    rest = bronze.join(accounted, on=["arrival_date", "source_file", "line_number"], how="anti")
    rest_ids = rest["raw"].str.json_path_match("$.event_id")
    assert rest_ids.is_in(silver["event_id"].implode()).all(), "an unaccounted line is not a duplicate"
    assert bronze.height == silver.height + rejected.height + rest.height
    assert rest.height == summary.duplicates
    assert set(rejected["reason"]) >= {
        "invalid_json",
        "missing_required_field",
        "wrong_type",
        "unknown_event_type",
    }
    assert "negative_price" in set(rejected["reason"])


def test_late_events_land_on_their_event_date_and_keys_are_unique(simulated_lake):
    lake, _ = simulated_lake
    silver = lake.read_table("silver/events")
    assert silver["event_id"].is_unique().all()
    assert (silver["event_ts"].dt.date() == silver["event_date"]).all()
    late = silver.filter(pl.col("arrival_date") > pl.col("event_date"))
    assert late.height > 0
    assert (silver["event_date"] <= END).all()
    facts = lake.read_table("gold/fact_events")
    assert facts.height == silver.height
    assert lake.read_table("gold/dim_customer")["customer_id"].is_unique().all()


def test_materialising_again_gives_identical_tables(simulated_lake):
    lake, _ = simulated_lake
    before = {key: lake.read_table(key) for key in MEDALLION}
    materialize_range(START, END, selection="group:bronze or group:silver or group:gold")
    materialize_range(dt.date(2026, 10, 2), dt.date(2026, 10, 2), selection="group:silver")
    for key in MEDALLION:
        after = lake.read_table(key)
        sort_by = [c for c in ("event_id", "customer_id", "source_file", "line_number") if c in after.columns]
        assert after.sort(sort_by).equals(before[key].sort(sort_by)), key


def test_single_partition_materialize_of_the_code_location(lake):
    write_landing_file(lake, START, "a.jsonl", [line(event(1)), line(event(2))])
    from ecom_assets.definitions import defs

    result = dg.materialize(
        defs.assets,
        selection="group:bronze or group:silver or key:gold/fact_events",
        partition_key=START.isoformat(),
        resources=build_resources(lake.uri),
    )
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert checks and all(evaluation.passed for evaluation in checks)
    assert lake.read_table("gold/fact_events").height == 2


def test_a_reject_rate_over_the_threshold_blocks_gold(lake):
    write_landing_file(lake, START, "a.jsonl", [line(event(1)), "not json", "nor this"])
    with pytest.raises(RunFailedError, match="reject_rate_below_threshold"):
        materialize_range(START, START, selection="group:bronze or group:silver or group:gold")
    assert not lake.table_exists("gold/fact_events")
    assert lake.read_table("silver/events_rejected").height == 2


def test_a_materialize_decodes_each_bronze_line_once_while_bronze_is_written(lake, monkeypatch):
    from ecom_assets.defs.medallion import parses

    decoded, threads = [], set()
    real_parse = parses.parse_bronze

    def parse(lines, *args):
        decoded.append(lines.height)
        if lines.height:  # the days after the range without late files are empty
            threads.add(threading.current_thread().name.rsplit("_", 1)[0])
        return real_parse(lines, *args)

    monkeypatch.setattr(parses, "parse_bronze", parse)
    summary = simulate(lake, START, days=2, customers=20, seed=3, faults=FAULTY, progress=False)
    materialize_range(START, START + dt.timedelta(days=1), selection="group:bronze or group:silver")
    bronze = lake.read_table("bronze/events")
    assert sum(decoded) == bronze.height, "the rejects and silver/events should take Bronze's parse"
    assert threads == {"ecom-parse-ahead"}, "Bronze's lines should be parsed while they are written"
    accounted = lake.read_table("silver/events").height + lake.read_table("silver/events_rejected").height
    assert bronze.height == summary.lines == accounted + summary.duplicates


def test_a_parse_left_on_disk_is_taken_once_and_only_for_the_same_files_and_window():
    from ecom_assets.transforms.parsed_days import ParsedDays
    from ecom_assets.transforms.silver import parse_bronze
    from ecom_assets_tests.factories import bronze

    parsed_days = ParsedDays()
    parsed_days.put(ParsedDays.key("files-a", 3), parse_bronze(bronze([line(event(1)), "not json"]), 3))
    assert parsed_days.take(ParsedDays.key("files-b", 3)) is None
    assert parsed_days.take(ParsedDays.key("files-a", 2)) is None
    taken = parsed_days.take(ParsedDays.key("files-a", 3))
    assert taken is not None
    assert taken.rejected["raw"].to_list() == ["not json"]
    assert taken.events["event_id"].to_list() == [event(1)["event_id"]]
    assert parsed_days.take(ParsedDays.key("files-a", 3)) is None


def test_parses_over_the_budget_wait_on_disk_and_come_back_the_same():
    from ecom_assets.transforms.parsed_days import ParsedDays
    from ecom_assets.transforms.silver import parse_bronze
    from ecom_assets_tests.factories import bronze

    parsed = parse_bronze(bronze([line(event(n)) for n in range(100)] + ["not json"]), 3)
    size = parsed.events.estimated_size() + parsed.rejected.estimated_size()
    parsed_days = ParsedDays(budget_bytes=int(size * 2.5))
    for day in "abc":
        parsed_days.put(day, parsed)
    assert all(parsed_days.has(day) for day in "abc")
    spill_folder = Path(parsed_days._spill_folder.name)
    assert len(list(spill_folder.iterdir())) == 2, "the third parse, events and rejects, on disk"

    assert parsed_days.take("a") is parsed
    spilled = parsed_days.take("c")
    assert spilled is not None and spilled is not parsed
    assert spilled.events.equals(parsed.events) and spilled.rejected.equals(parsed.rejected)
    assert spilled.events.schema == parsed.events.schema
    assert not list(spill_folder.iterdir()), "a spilled parse is deleted once taken"
    assert parsed_days.take("c") is None

    del parsed_days
    assert not spill_folder.exists()


def test_a_partition_fingerprint_changes_only_when_that_partition_is_rewritten(lake):
    day, other = START, START + dt.timedelta(days=1)
    write_landing_file(lake, day, "a.jsonl", [line(event(1))])
    write_landing_file(lake, other, "a.jsonl", [line(event(2))])
    materialize_range(day, other, selection="key:bronze/events")
    before = lake.partition_fingerprints("bronze/events", "arrival_date")
    write_landing_file(lake, other, "b.jsonl", [line(event(3))])
    materialize_range(other, other, selection="key:bronze/events")
    after = lake.partition_fingerprints("bronze/events", "arrival_date")
    assert set(before) == set(after) == {day, other}
    assert after[day] == before[day]
    assert after[other] != before[other]
