"""Crash a real ``ecom`` process at a named fault point and compare the lake with an uninterrupted run.

Shared by the crash tests and ``bench/faults.py``. A scenario copies one simulated landing zone into two
lakes (file times preserved, so Bronze's ``landed_at`` agrees): the reference lake is materialised once;
the faulty lake is materialised with ``ECOM_FAULT_POINT`` armed (the process must die by SIGKILL), its
tables are checked against what they were before, then it is materialised again and compared table by
table with the reference.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import polars as pl
import pytest
from deltalake import DeltaTable

from ecom_assets.events.simulator import simulate
from ecom_assets.faults import AFTER_VARIABLE, POINT_VARIABLE
from ecom_assets.keys import (
    BRONZE_EVENTS,
    CUSTOMER_DAILY_FEATURES,
    DIM_CUSTOMER,
    FACT_EVENTS,
    LABEL_PURCHASE_NEXT_7D,
    PREDICTION_LOG,
    SILVER_EVENTS,
    SILVER_EVENTS_REJECTED,
)
from ecom_assets.storage.lake import Lake

START = dt.date(2026, 10, 1)
DAYS = 3
END = START + dt.timedelta(days=DAYS - 1)
# The tables a medallion range run writes; the model and its scores depend on training time.
TABLES = (
    BRONZE_EVENTS,
    SILVER_EVENTS_REJECTED,
    SILVER_EVENTS,
    FACT_EVENTS,
    DIM_CUSTOMER,
    CUSTOMER_DAILY_FEATURES,
    LABEL_PURCHASE_NEXT_7D,
    PREDICTION_LOG,
)
SELECTION = "group:bronze or group:silver or group:gold"
# Bronze's landed_at is the landing file's time in its store: the only column that a lake on Azurite and
# a local lake made of the same files do not share.
STORE_TIMES = ("landed_at",)


@dataclass(frozen=True)
class TableState:
    version: int | None  # None: the table does not exist
    frame: pl.DataFrame | None


def ecom(
    *arguments: str, lake_uri: str, dagster_home: Path, fault: str | None = None, after: int = 1
) -> subprocess.CompletedProcess:
    """Run ``ecom <arguments>`` in a fresh process on one lake and Dagster home, a fault point armed."""
    environment = {**os.environ, "ECOM_LAKE_URI": lake_uri, "DAGSTER_HOME": str(dagster_home)}
    environment.pop(POINT_VARIABLE, None)
    if fault:
        environment.update({POINT_VARIABLE: fault, AFTER_VARIABLE: str(after)})
    dagster_home.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "ecom_assets.cli", *arguments]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)


MATERIALIZE = ("materialize", "--start", str(START), "--end", str(END), "--select", SELECTION)


def materialize(lake_uri: str, dagster_home: Path, **fault) -> subprocess.CompletedProcess:
    return ecom(*MATERIALIZE, lake_uri=lake_uri, dagster_home=dagster_home, **fault)


def materialize_through_outage(lake: Lake, cut: Callable[[], None], dagster_home: Path) -> tuple[int, str]:
    """``ecom materialize`` on ``lake`` (configured in this process's environment), its storage cut off
    by ``cut`` once Bronze is committed; the run is frozen meanwhile, so the outage strikes mid-run.
    Returns the exit code and what the run printed on stderr."""
    command = [sys.executable, "-m", "ecom_assets.cli", *MATERIALIZE]
    environment = {**os.environ, "DAGSTER_HOME": str(dagster_home)}
    environment.pop(POINT_VARIABLE, None)
    run = subprocess.Popen(command, env=environment, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 600
        while run.poll() is None and not _holds_rows(lake, BRONZE_EVENTS) and time.monotonic() < deadline:
            time.sleep(0.05)
        run.send_signal(signal.SIGSTOP)
        cut()
        run.send_signal(signal.SIGCONT)
        _, errors = run.communicate(timeout=600)
    finally:
        run.kill()
    return run.returncode, errors


def _holds_rows(lake: Lake, key: str) -> bool:
    """The table has committed rows (a partitioned table is created empty before its first write)."""
    return lake.table_exists(key) and lake.scan_table(key).select(pl.len()).collect().item() > 0


def python_in_lake(code: str, lake: Lake, fault: str) -> subprocess.CompletedProcess:
    """``python -c code`` with ``lake`` bound to the lake at hand and a fault point armed."""
    environment = {**os.environ, "ECOM_LAKE_URI": lake.uri, POINT_VARIABLE: fault}
    prelude = "from ecom_assets.storage.lake import Lake; lake = Lake.from_settings(); "
    command = [sys.executable, "-c", prelude + code]
    return subprocess.run(command, env=environment, capture_output=True, text=True, timeout=600)


def logged_predictions(lake: Lake) -> int:
    return lake.read_table(PREDICTION_LOG).height if lake.table_exists(PREDICTION_LOG) else 0


def score_at_once(url: str, customers: range) -> None:
    """Score customers in one batch request: its rows reach the prediction log in the same flush."""
    ids = [f"c00-{number:05d}" for number in customers]
    httpx.post(f"{url}/score/batch", json={"customer_ids": ids}, timeout=30).raise_for_status()


def service_alive(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def killed(result: subprocess.CompletedProcess) -> bool:
    return result.returncode == -signal.SIGKILL


def simulate_landing(lake: Lake) -> None:
    """Simulated landing files (with the faults of a real feed) for START .. END: the same bytes each time."""
    simulate(lake, start=START, days=DAYS, customers=40, seed=11, progress=False)


def landing_zone(root: Path) -> Path:
    """A local lake holding only the simulated landing files."""
    simulate_landing(Lake(str(root / "landing-only")))
    return root / "landing-only"


def copy_lake(source: Path, target: Path) -> str:
    shutil.copytree(source, target, copy_function=shutil.copy2)
    return str(target)


def sorted_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in a canonical order, columns too: Delta files and their rows come in no set order."""
    frame = frame.select(sorted(frame.columns))
    sortable = [name for name, dtype in frame.schema.items() if not dtype.is_nested()]
    return frame.sort(sortable, nulls_last=True)


def table_state(lake: Lake, key: str, ignoring: tuple[str, ...] = ()) -> TableState:
    if not lake.table_exists(key):
        return TableState(None, None)
    table = DeltaTable(lake.table_uri(key), storage_options=lake.storage_options or None)
    frame = pl.DataFrame(pl.from_arrow(table.to_pyarrow_table()))
    return TableState(table.version(), sorted_frame(frame.drop(ignoring, strict=False)))


def lake_state(lake: Lake, ignoring: tuple[str, ...] = ()) -> dict[str, TableState]:
    """Each table's version and rows; ``ignoring`` drops columns that differ by nature between lakes."""
    return {key: table_state(lake, key, ignoring) for key in TABLES}


def same_rows(first: pl.DataFrame | None, second: pl.DataFrame | None) -> bool:
    """Both tables absent, or both there with equal rows (frames from ``table_state``, in one order)."""
    if first is None or second is None:
        return first is second
    return first.equals(second)


def differences(expected: dict[str, TableState], actual: dict[str, TableState]) -> list[str]:
    """Tables whose rows differ (versions aside); [] when the lakes hold the same rows."""
    return [key for key, want in expected.items() if not same_rows(want.frame, actual[key].frame)]


def rows_lost(expected: dict[str, TableState], actual: dict[str, TableState]) -> int:
    """Rows of the expected tables that the actual ones lack (compared on every non-nested column)."""
    lost = 0
    for key, want in expected.items():
        if want.frame is None:
            continue
        got = actual[key].frame
        if got is None:
            lost += want.frame.height
            continue
        columns = [name for name, dtype in want.frame.schema.items() if not dtype.is_nested()]
        lost += want.frame.join(got, on=columns, how="anti", nulls_equal=True).height
    return lost


def unreadable_tables(lake: Lake) -> list[str]:
    """Tables that exist but cannot be read whole."""
    unreadable = []
    for key in TABLES:
        try:
            table_state(lake, key)
        except Exception:  # any failure to read is what this counts
            unreadable.append(key)
    return unreadable


def torn_tables(
    before: dict[str, TableState], after: dict[str, TableState], final: dict[str, TableState]
) -> list[str]:
    """Tables left neither as they were before the crash nor as a complete run leaves them (a table that
    did not exist before may now exist empty: created for its first write, which did not happen)."""
    return [
        key
        for key, now in after.items()
        if not (
            same_rows(now.frame, before[key].frame)
            or same_rows(now.frame, final[key].frame)
            or (before[key].frame is None and now.frame is not None and now.frame.is_empty())
        )
    ]


@pytest.fixture(scope="session")
def uninterrupted_reference(tmp_path_factory):
    """The landing zone, and the lake an uninterrupted run makes of it, with its tables' state."""
    root = tmp_path_factory.mktemp("reference")
    landing = landing_zone(root)
    lake_uri = copy_lake(landing, root / "uninterrupted")
    result = materialize(lake_uri, root / "dagster_home")
    assert result.returncode == 0, result.stdout + result.stderr
    return landing, root / "uninterrupted", lake_state(Lake(lake_uri))
