"""Concurrent runs: commits that race on the same partitions are retried, and end in correct tables."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import polars as pl
import pytest
from deltalake.exceptions import CommitFailedError

from ecom_assets.defs.ml import jobs as ml_jobs
from ecom_assets.defs.resources import build_resources
from ecom_assets.operations.materialize import dagster_instance
from ecom_assets.storage import lake as lake_module
from ecom_assets.storage.lake import COMMIT_ATTEMPTS, ConcurrentWriteError, Lake
from ecom_assets_tests import fault_harness as harness

DAYS = [dt.date(2026, 10, 1) + dt.timedelta(days=number) for number in range(4)]


def day_rows(days: list[dt.date], writer: int) -> pl.DataFrame:
    return pl.DataFrame({"day": [day for day in days for _ in range(50)], "writer": writer})


def write_days(lake: Lake, days: list[dt.date], writer: int, stream: bool) -> None:
    rows = day_rows(days, writer)
    if stream:  # partition files written by polars, then committed
        lake.write_table_stream("gold/example", rows.partition_by("day"), rows.schema, "day", days)
    else:
        lake.write_table("gold/example", rows, "day", days)


@pytest.mark.parametrize("stream", [False, True], ids=["table", "stream"])
def test_two_writers_replacing_overlapping_partitions_both_succeed_with_each_day_whole(lake, stream):
    lake.write_table("gold/example", day_rows(DAYS, 0), "day", DAYS)
    first, second = DAYS[:3], DAYS[1:]
    start = threading.Barrier(2)

    def replace(days: list[dt.date], writer: int) -> None:
        for _ in range(3):
            start.wait()  # both commit at the same moment, three times over
            write_days(lake, days, writer, stream)

    with ThreadPoolExecutor(2) as pool:
        for future in [pool.submit(replace, first, 1), pool.submit(replace, second, 2)]:
            future.result()

    table = lake.read_table("gold/example")
    per_day = table.group_by("day").agg(rows=pl.len(), writers=pl.col("writer").n_unique())
    assert per_day.sort("day").rows() == [(day, 50, 1) for day in DAYS]
    assert table.filter(pl.col("day") == DAYS[0])["writer"].unique().to_list() == [1]
    assert table.filter(pl.col("day") == DAYS[3])["writer"].unique().to_list() == [2]


def test_two_streams_filling_the_same_new_partitions_at_once_leave_each_day_whole(lake):
    start = threading.Barrier(2)
    for first in range(0, 50, 10):  # partitions with no files yet, five times over
        days = [DAYS[0] + dt.timedelta(days=first + number) for number in range(3)]

        def fill(writer: int, days: list[dt.date] = days) -> None:
            start.wait()
            write_days(lake, days, writer, stream=True)

        with ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(fill, 1), pool.submit(fill, 2)]:
                future.result()
        written = lake.read_table("gold/example", "day", days)
        per_day = written.group_by("day").agg(rows=pl.len(), writers=pl.col("writer").n_unique())
        assert per_day.sort("day").rows() == [(day, 50, 1) for day in days]


def test_a_write_that_keeps_losing_the_race_fails_in_one_line_naming_table_and_partitions(lake, monkeypatch):
    attempts = []

    def always_conflicting(*args, **kwargs):
        attempts.append(kwargs.get("predicate"))
        raise CommitFailedError("Commit failed: a concurrent transactions added new data.")

    lake.write_table("gold/example", day_rows(DAYS, 0), "day", DAYS)
    monkeypatch.setattr(lake_module, "write_deltalake", always_conflicting)

    with pytest.raises(ConcurrentWriteError) as raised:
        lake.write_table("gold/example", day_rows(DAYS[1:3], 1), "day", DAYS[1:3])

    assert str(raised.value) == (
        "concurrent write to gold/example partitions 2026-10-02 .. 2026-10-03: another run committed "
        f"first {COMMIT_ATTEMPTS} times; retry"
    )
    assert len(attempts) == COMMIT_ATTEMPTS and all("'2026-10-02'" in text for text in attempts)


def test_a_step_whose_commit_conflicts_is_retried_by_dagster(tmp_path, monkeypatch):
    conflicts = iter([ConcurrentWriteError("concurrent write to gold/example ...; retry")])
    write_table = Lake.write_table

    def conflicting_once(self, *args, **kwargs):
        if error := next(conflicts, None):
            raise error
        return write_table(self, *args, **kwargs)

    monkeypatch.setattr(Lake, "write_table", conflicting_once)
    computed = []

    @dg.asset(key=["gold", "example"])
    def example() -> pl.DataFrame:
        computed.append(1)
        return day_rows(DAYS[:1], 0)

    result = dg.materialize([example], resources=build_resources(str(tmp_path / "lake")))

    assert result.success and len(computed) == 2
    assert Lake(str(tmp_path / "lake")).read_table("gold/example").height == 50


def test_the_instance_runs_one_retraining_at_a_time():
    instance = dagster_instance()  # this test's DAGSTER_HOME, given the project's dagster.yaml

    limits = instance.run_coordinator.get_run_queue_config().tag_concurrency_limits

    [(tag, value)] = ml_jobs.RETRAINING_TAGS.items()
    assert {"key": tag, "value": value, "limit": 1} in limits
    assert ml_jobs.retrain_job.tags == ml_jobs.RETRAINING_TAGS


def test_two_materialize_commands_over_the_same_days_at_once_end_with_correct_tables(
    uninterrupted_reference, tmp_path
):
    landing, _, uninterrupted = uninterrupted_reference
    lake_uri = harness.copy_lake(landing, tmp_path / "lake")

    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(harness.materialize, lake_uri, tmp_path / f"home-{number}") for number in (1, 2)]
        results = [run.result() for run in runs]

    for result in results:
        assert result.returncode == 0 or "concurrent write to" in result.stderr, result.stderr
    if any(result.returncode for result in results):  # a clear conflict: the retry succeeds
        assert harness.materialize(lake_uri, tmp_path / "home-1").returncode == 0
    assert harness.differences(uninterrupted, harness.lake_state(Lake(lake_uri))) == []
