"""The code location loads, the schedule asks for the right range, and `ecom` fails in one line."""

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from ecom_assets.cli import main
from ecom_assets.defs.medallion.jobs import daily_medallion_schedule
from ecom_assets.operations.materialize import plan


def test_definitions_load_with_every_contract_asset():
    from ecom_assets.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
    assert keys == {
        "bronze/events",
        "silver/events",
        "silver/events_rejected",
        "gold/fact_events",
        "gold/dim_customer",
        "gold/customer_daily_activity",  # not in the contract's table list: the features' internal aggregate
        "gold/customer_daily_features",
        "gold/label_purchase_next_7d",
        "ml/propensity_model",
        "ml/champion",
        "ml/batch_scores",
        "monitoring/prediction_log",
        "monitoring/drift_report",
        "monitoring/model_performance",
    }


def test_lineage_reads_model_champion_scores_drift_with_the_prediction_log_as_input():
    from ecom_assets.definitions import defs

    graph = defs.resolve_asset_graph()

    def parents(key: str) -> set[str]:
        return {
            parent.to_user_string() for parent in graph.get(dg.AssetKey.from_user_string(key)).parent_keys
        }

    assert parents("gold/customer_daily_features") == {"gold/customer_daily_activity", "gold/dim_customer"}
    assert "ml/propensity_model" in parents("ml/champion")
    assert "ml/champion" in parents("ml/batch_scores")
    assert {"ml/batch_scores", "monitoring/prediction_log"} <= parents("monitoring/drift_report")
    assert not graph.get(dg.AssetKey.from_user_string("monitoring/prediction_log")).is_materializable


def test_runs_launched_from_the_ui_or_the_daemon_run_their_steps_in_one_process():
    from ecom_assets.definitions import defs

    for job in (defs.resolve_job_def("medallion_job"), defs.resolve_implicit_global_asset_job_def()):
        assert job.executor_def is dg.in_process_executor, job.name


def test_the_core_and_the_service_import_without_dagster():
    """The scoring service stands on the library alone; so does everything outside ecom_assets/defs."""
    modules = [
        "serving.app",
        "ecom_assets.cli",
        "ecom_assets.keys",
        "ecom_assets.storage",
        "ecom_assets.events.simulator",
        "ecom_assets.events.rees46",
        "ecom_assets.transforms.silver",
        "ecom_assets.transforms.features",
        "ecom_assets.ml.train",
        "ecom_assets.ml.gate",
        "ecom_assets.ml.drift",
        "ecom_assets.ml.batch_scores",
    ]
    code = f"import importlib, sys; [importlib.import_module(m) for m in {modules!r}]; "
    code += "sys.exit('dagster' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0, "a core module imports dagster"


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
        dt.date(2026, 10, 17),
        dt.date(2026, 10, 24),
    )
    # A hole before the range stops the reach back just after the hole.
    with_hole = october - {"2026-10-13"}
    assert _labels_step(dt.date(2026, 10, 17), dt.date(2026, 10, 31), with_hole)[0] == dt.date(2026, 10, 14)


def test_dg_lists_and_checks_the_defs_folder():
    """The `dg` project: what `dg list defs` shows is the whole code location, and `dg check defs` passes."""
    dg_cli = Path(sys.executable).with_name("dg")
    root = Path(__file__).resolve().parents[1]
    listed = subprocess.run(
        [dg_cli, "list", "defs", "--json"], cwd=root, capture_output=True, text=True, check=True
    )
    defs = json.loads(listed.stdout)
    assets = {asset["asset_key"] for asset in defs["assets"]}
    assert {"ml/champion", "monitoring/prediction_log", "gold/fact_events"} <= assets
    assert "ml/propensity_model:promotion_gate" in {check["key"] for check in defs["asset_checks"]}
    assert {job["name"] for job in defs["jobs"]} >= {"medallion_job", "retrain_job", "daily_ml_job"}
    assert {sensor["name"] for sensor in defs["sensors"]} >= {"drift_retrain_sensor"}
    assert {schedule["name"] for schedule in defs["schedules"]} >= {"daily_medallion_schedule"}
    checked = subprocess.run([dg_cli, "check", "defs"], cwd=root, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
