"""The code location loads, the schedule asks for the right range, and `ecom` fails in one line."""

import datetime as dt

import dagster as dg
import pytest

from ecom_assets.automation.backfill import plan
from ecom_assets.automation.schedules import daily_medallion_schedule
from ecom_assets.cli import main


def test_definitions_load_with_every_contract_asset():
    from ecom_assets.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys >= {
        "bronze/events",
        "silver/events",
        "silver/events_rejected",
        "gold/fact_events",
        "gold/dim_customer",
    }


def test_daily_schedule_reprocesses_the_late_window_up_to_yesterday():
    context = dg.build_schedule_context(
        scheduled_execution_time=dt.datetime(2026, 10, 10, 1, 30, tzinfo=dt.UTC)
    )
    request = daily_medallion_schedule(context)
    assert request.tags["dagster/asset_partition_range_start"] == "2026-10-06"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-10-09"
    assert request.run_key == "2026-10-09"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["materialize", "--start", "2026-13-01", "--end", "2026-10-02"], "is not a date"),
        (["materialize", "--start", "2026-10-05", "--end", "2026-10-02"], "is before --start"),
        (
            ["materialize", "--start", "1999-01-01", "--end", "1999-01-02"],
            "must lie within the daily partitions",
        ),
        (["materialize", "--start", "2026-10-01", "--end", "2026-10-01", "--select", "key:nope/x"], "nope/x"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip()
    assert message in error
    assert len(error.splitlines()) == 1


def _labels_step(start: dt.date, end: dt.date, materialised: set[str]) -> tuple[dt.date, dt.date]:
    (labels,) = [step for step in plan(start, end, materialised) if step.name == "labels"]
    return labels.start, labels.end


def test_labels_follow_the_facts_whose_look_ahead_a_range_completes():
    october = {(dt.date(2026, 10, 1) + dt.timedelta(days=n)).isoformat() for n in range(16)}
    # A second range right after the first completes the labels of the week before it too.
    assert _labels_step(dt.date(2026, 10, 17), dt.date(2026, 10, 31), october) == (
        dt.date(2026, 10, 10),
        dt.date(2026, 10, 24),
    )
    # On a fresh lake, nothing before the range: labels start with it.
    assert _labels_step(dt.date(2026, 10, 17), dt.date(2026, 10, 31), set()) == (
        dt.date(2026, 10, 16),
        dt.date(2026, 10, 24),
    )
    # A hole before the range stops the reach back at the hole.
    with_hole = october - {"2026-10-13"}
    assert _labels_step(dt.date(2026, 10, 17), dt.date(2026, 10, 31), with_hole)[0] == dt.date(2026, 10, 13)
