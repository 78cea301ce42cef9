"""The medallion assets through Dagster on a temporary lake: reconciliation, idempotency, blocking checks."""

import datetime as dt

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


def test_a_materialize_decodes_each_bronze_line_once(lake, monkeypatch):
    from ecom_assets.defs.medallion import silver as silver_defs

    parses = []
    real_parse = silver_defs.parse_bronze
    monkeypatch.setattr(silver_defs, "parse_bronze", lambda *args: parses.append(1) or real_parse(*args))
    summary = simulate(lake, START, days=2, customers=20, seed=3, faults=FAULTY, progress=False)
    materialize_range(START, START + dt.timedelta(days=1), selection="group:bronze or group:silver")
    assert len(parses) == 1, "silver/events should take the parse of silver/events_rejected"
    bronze = lake.read_table("bronze/events")
    accounted = lake.read_table("silver/events").height + lake.read_table("silver/events_rejected").height
    assert bronze.height == summary.lines == accounted + summary.duplicates


def test_the_parse_handoff_never_gives_one_frame_the_parse_of_another():
    from ecom_assets.defs.medallion.silver import ParseHandoff
    from ecom_assets_tests.factories import bronze

    handoff = ParseHandoff()
    first = handoff.parse(bronze([line(event(1)), "not json"]), late_window_days=3)
    other = handoff.parse(bronze([line(event(1)), "nor this"]), late_window_days=3)
    assert first.rejected["raw"].to_list() == ["not json"]
    assert other.rejected["raw"].to_list() == ["nor this"]
    assert handoff.parse(bronze([line(event(1)), "nor this"]), late_window_days=3) is other
    assert handoff.parse(bronze([line(event(1)), "nor this"]), late_window_days=3) is not other
