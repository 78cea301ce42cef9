"""Crash consistency: real ``ecom`` processes SIGKILLed at named fault points (``ecom_assets.faults``).

After each crash every table reads at a complete version (the one before, or the one the run finished
before dying), the champion pointer names a verified version, and a rerun leaves the same tables as an
uninterrupted run.
"""

import polars as pl
from deltalake import write_deltalake

from ecom_assets.faults import (
    LAKE_BEFORE_COMMIT,
    LAKE_FILE_STAGED,
    REGISTRY_BEFORE_MANIFEST,
    RUN_BETWEEN_STEPS,
)
from ecom_assets.keys import BRONZE_EVENTS, SILVER_EVENTS, SILVER_EVENTS_REJECTED
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.storage.lake import Lake
from ecom_assets_tests import fault_harness as harness
from ecom_assets_tests.serving_support import register_model


def test_a_crash_between_two_range_runs_leaves_whole_tables_and_a_rerun_completes_them(
    uninterrupted_reference, tmp_path
):
    landing, _, uninterrupted = uninterrupted_reference
    lake_uri = harness.copy_lake(landing, tmp_path / "lake")

    crashed = harness.materialize(lake_uri, tmp_path / "home", fault=RUN_BETWEEN_STEPS)

    assert harness.killed(crashed), crashed.stdout + crashed.stderr
    after_crash = harness.lake_state(Lake(lake_uri))
    assert {key for key, state in after_crash.items() if state.version is not None} == {
        BRONZE_EVENTS,
        SILVER_EVENTS_REJECTED,
    }
    assert harness.differences({key: uninterrupted[key] for key in (BRONZE_EVENTS,)}, after_crash) == []
    rerun = harness.materialize(lake_uri, tmp_path / "home")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert harness.differences(uninterrupted, harness.lake_state(Lake(lake_uri))) == []


def test_a_crash_before_a_delta_commit_keeps_the_table_at_its_previous_version(
    uninterrupted_reference, tmp_path
):
    _, materialised, uninterrupted = uninterrupted_reference
    lake_uri = harness.copy_lake(materialised, tmp_path / "lake")
    before = harness.lake_state(Lake(lake_uri))

    # Commits 1 and 2 are Bronze and the rejects; the process dies as Silver is about to commit.
    crashed = harness.materialize(lake_uri, tmp_path / "home", fault=LAKE_BEFORE_COMMIT, after=3)

    assert harness.killed(crashed), crashed.stdout + crashed.stderr
    after_crash = harness.lake_state(Lake(lake_uri))
    versions = {key: (before[key].version, state.version) for key, state in after_crash.items()}
    assert versions[SILVER_EVENTS] == (before[SILVER_EVENTS].version,) * 2
    assert sorted(new - old for old, new in versions.values() if old is not None) == [0, 0, 0, 0, 1, 1]
    assert harness.torn_tables(before, after_crash, uninterrupted) == []
    rerun = harness.materialize(lake_uri, tmp_path / "home")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert harness.differences(uninterrupted, harness.lake_state(Lake(lake_uri))) == []


def test_data_files_written_without_their_commit_are_invisible(lake, tmp_path):
    """What delta-rs leaves when killed between writing Parquet files and committing: orphans no reader
    sees and no later write counts."""
    day = pl.date(2026, 10, 1)
    frame = pl.select(day=day, value=pl.int_range(0, 100, eager=True))
    lake.write_table("gold/example", frame, "day", [frame["day"][0]])
    version = lake.table_version("gold/example")
    scratch = tmp_path / "uncommitted"
    write_deltalake(str(scratch), frame.with_columns(value=-1).to_arrow(), partition_by=["day"])
    for data_file in scratch.rglob("*.parquet"):  # the data files, without their _delta_log entry
        target = tmp_path / "lake" / "gold" / "example" / data_file.relative_to(scratch)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data_file.read_bytes())

    assert lake.table_version("gold/example") == version
    assert lake.read_table("gold/example").equals(frame)
    lake.write_table("gold/example", frame.with_columns(value=pl.col("value") * 2), "day", [frame["day"][0]])
    assert sorted(lake.read_table("gold/example")["value"]) == list(range(0, 200, 2))


def test_a_crash_while_a_version_is_registered_leaves_no_version_and_the_champion_verified(lake):
    champion = register_model(lake, seed=1)
    code = "from ecom_assets_tests.serving_support import register_model; register_model(lake, 2, False)"

    crashed = harness.python_in_lake(code, lake, REGISTRY_BEFORE_MANIFEST)

    assert harness.killed(crashed), crashed.stderr
    registry = ModelRegistry(lake)
    assert len(lake.list_files(f"{registry.root}/versions")) == 2, "the half-registered folder is there"
    assert registry.versions() == [champion.version]
    assert registry.load_champion().manifest.version == champion.version
    rerun = register_model(lake, seed=2, promote=False)
    assert registry.versions() == [champion.version, rerun.version]
    assert registry.load(rerun.version).manifest == rerun


def test_a_crash_while_the_champion_pointer_is_replaced_keeps_the_old_verified_champion(lake):
    champion = register_model(lake, seed=1)
    candidate = register_model(lake, seed=2, promote=False)
    code = "from ecom_assets.ml.registry import ModelRegistry; "
    code += f"ModelRegistry(lake).promote({candidate.version!r})"

    crashed = harness.python_in_lake(code, lake, LAKE_FILE_STAGED)

    assert harness.killed(crashed), crashed.stderr
    registry = ModelRegistry(lake)
    assert registry.load_champion().manifest.version == champion.version
    registry.promote(candidate.version)
    assert registry.load_champion().manifest.version == candidate.version
