"""Landing → Gold throughput on simulator data, against the floor of polars parsing the same files.

    .venv/bin/python bench/pipeline.py [--customers 10000] [--days 30] [--engine polars|spark] [--profile]
        [--repeat N]

Prints events per second for Bronze → Silver → Gold (Dagster range runs on a temporary lake) and the
ratio of that time to ``polars.read_ndjson`` on the same landing files (a parse with no validation,
dedup, late-window, back-fill or Delta writes: the floor). ``--engine spark`` runs the same graph on the
Spark engine (``ECOM_ENGINE=spark``: a local Sail server unless ``ECOM_SPARK_REMOTE`` is set).
``--profile`` also prints where the time goes: each step's wall and CPU seconds from the Dagster event log
(instance opening and run creation are the gaps between steps), then the time inside each stage's
functions, summed over the threads that call them. Stages overlap (Bronze's lines are parsed on threads
while Bronze is written, files are written on threads while the next frames are made, polars runs each
call on its own threads), so their seconds do not add up to the wall time. (To wrap them, ``--profile``
imports the instance's storage module, with Dagster's SQLite storage and alembic, before the clock
starts: its first piece is about 0.3 s shorter than a plain run's.) Each run is a
process of its own that imports the code location before its clock starts, as an ``ecom materialize``
would; ``--repeat N`` makes N runs on fresh copies of the landing zone, each with the floor measured
right after it, and the last line gives the median ratio (on a shared machine one run can be a fifth
off). Run it on a quiet machine.
"""

import argparse
import datetime as dt
import functools
import gzip
import importlib
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson

# Stage → the functions whose time it is (module, attribute as the caller looks it up).
STAGES = {
    "reading landing files": [("ecom_assets.transforms.bronze", "read_landing_file")],
    "parsing and validation": [("ecom_assets.defs.medallion.parses", "parse_bronze")],
    "dedup": [("ecom_assets.transforms.silver", "deduplicate")],
    "back-fill": [("ecom_assets.transforms.silver", "backfill_customers")],
    "Delta: Parquet files": [("ecom_assets.storage.partition_files", "PartitionFiles._file")],
    "Delta: commits": [("ecom_assets.storage.lake", "commit_partition_files")],
    "Dagster event storage": [("ecom_assets.instance.storage", "SqliteEventLogStorage.store_event")],
}
# The Dagster events that open a piece of the step timeline.
MARKS = {
    "PIPELINE_START": "run start (resources, inputs)",
    "STEP_START": "step",
    "PIPELINE_SUCCESS": "run end, and the next run's creation",
}


class StageClock:
    """Seconds spent in each stage's functions, on whichever thread calls them, and the process's CPU
    time every 20 ms to split it among the run's steps."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.cpu: list[tuple[float, float]] = []

    def install(self) -> None:
        for stage, functions in STAGES.items():
            for module_name, attribute in functions:
                owner = importlib.import_module(module_name)
                *path, name = attribute.split(".")
                for part in path:
                    owner = getattr(owner, part)
                setattr(owner, name, self._timed(stage, getattr(owner, name)))
        threading.Thread(target=self._sample_cpu, daemon=True).start()

    def _timed(self, stage: str, function: Callable) -> Callable:
        @functools.wraps(function)
        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - began

        return timed

    def _sample_cpu(self) -> None:
        while True:
            self.cpu.append((time.time(), time.process_time()))
            time.sleep(0.02)

    def cpu_at(self, moment: float) -> float:
        return min(self.cpu, key=lambda sample: abs(sample[0] - moment))[1]


def print_timeline(clock: StageClock, began: float, ended: float, run_ids: list[str]) -> None:
    """Wall and CPU seconds of each piece of the runs, between the Dagster events that open them."""
    import dagster as dg

    instance = dg.DagsterInstance.get()
    marks = [(began, "instance opening, plan, the first run's creation")]
    for run_id in run_ids:
        for record in instance.all_logs(run_id):
            kind = record.dagster_event.event_type_value if record.dagster_event else None
            if kind in MARKS:
                step = (record.step_key or "").replace("__", "/")
                marks.append((record.timestamp, f"`{step}`" if kind == "STEP_START" else MARKS[kind]))
    marks.append((ended, ""))
    print("| piece of the run | wall s | CPU s |\n|---|---:|---:|")
    for (start, label), (end, _) in itertools.pairwise(marks):
        print(f"| {label} | {end - start:.2f} | {clock.cpu_at(end) - clock.cpu_at(start):.2f} |")
    print("| stage (functions' time summed over threads; stages overlap) | seconds |\n|---|---:|")
    for stage, seconds in clock.seconds.most_common():
        print(f"| {stage} | {seconds:.2f} |")


def _json_lines(path: Path) -> bytes:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    kept = []
    for line in data.splitlines():
        try:
            if isinstance(orjson.loads(line), dict):
                kept.append(line)
        except orjson.JSONDecodeError:
            continue
    return b"\n".join(kept)


def timed_run(lake_dir: str, start: dt.date, end: dt.date, profile: bool) -> None:
    """In a process of its own, as ``ecom materialize`` runs: the range run of the bench, timed."""
    os.environ["ECOM_LAKE_URI"] = lake_dir
    from ecom_assets.operations.materialize import materialize_range
    from ecom_assets.storage.lake import Lake

    clock = StageClock()
    if profile:
        clock.install()
    began, began_at, began_cpu = time.perf_counter(), time.time(), time.process_time()
    results = materialize_range(start, end, selection="group:bronze or group:silver or key:gold/fact_events")
    wall, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    gold_rows = Lake.from_settings().read_table("gold/fact_events").height
    if profile:
        print_timeline(clock, began_at, began_at + wall, [result.run_id for result in results])
    print(json.dumps({"wall": wall, "cpu": cpu, "gold_rows": gold_rows}))


def run_in_child(workdir: Path, run: int, start: dt.date, end: dt.date, profile: bool) -> dict:
    lake_dir, home = workdir / f"run-{run}", workdir / f"dagster-home-{run}"
    shutil.copytree(workdir / "source" / "landing", lake_dir / "landing")
    home.mkdir()
    child = subprocess.run(
        [sys.executable, __file__, "--timed-run", str(lake_dir), start.isoformat(), end.isoformat()]
        + (["--profile"] if profile else []),
        env=os.environ | {"DAGSTER_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    shutil.rmtree(lake_dir)
    shutil.rmtree(home)
    if child.returncode != 0:
        raise SystemExit(f"run {run} failed: {child.stderr[-2000:]}")
    *breakdown, result = child.stdout.strip().splitlines()
    print("\n".join(breakdown), end="\n" if breakdown else "")
    return json.loads(result)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--engine", choices=("polars", "spark"), default="polars")
    parser.add_argument("--profile", action="store_true", help="print the time of each stage")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs, each in a new process; the median counts"
    )
    parser.add_argument("--timed-run", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.timed_run:
        lake_dir, first, last = args.timed_run
        timed_run(lake_dir, dt.date.fromisoformat(first), dt.date.fromisoformat(last), args.profile)
        return
    os.environ["ECOM_ENGINE"] = args.engine
    workdir = Path(tempfile.mkdtemp(prefix="ecom-bench-"))

    import polars as pl

    from ecom_assets.events.simulator import simulate
    from ecom_assets.storage.lake import Lake

    start = dt.date(2026, 9, 1)
    end = start + dt.timedelta(days=args.days - 1)
    source = Lake(str(workdir / "source"))
    summary = simulate(source, start, days=args.days, customers=args.customers, seed=1, progress=False)
    size = f"{args.customers:,} customers × {args.days} days"
    print(f"landing: {summary.lines:,} lines in {summary.files} files ({size}), engine {args.engine}")
    # polars cannot read a file with a malformed line at all: the floor parses the well-formed lines.
    well_formed = [_json_lines(path) for path in sorted((workdir / "source" / "landing").rglob("*.jsonl*"))]

    ratios = []
    for run in range(1, args.repeat + 1):
        result = run_in_child(workdir, run, start, end, args.profile)
        began, began_cpu = time.perf_counter(), time.process_time()
        floor_rows = sum(pl.read_ndjson(data, infer_schema_length=None).height for data in well_formed)
        floor, floor_cpu = time.perf_counter() - began, time.process_time() - began_cpu
        pipeline = result["wall"]
        ratios.append(pipeline / floor)
        rate, gold_rows = summary.lines / pipeline, result["gold_rows"]
        print(f"run {run}: landing → Gold: {pipeline:.1f} s, {rate:,.0f} events/s ({gold_rows:,} Gold rows)")
        print(f"run {run}: floor (polars read_ndjson of the same files): {floor:.2f} s, {floor_rows:,} rows")
        print(
            f"run {run}: CPU time: landing → Gold {result['cpu']:.1f} s, floor {floor_cpu:.2f} s "
            f"({os.cpu_count()} cores); ratio {pipeline / floor:.1f}x"
        )
    shutil.rmtree(workdir)
    print(f"ratio pipeline / floor: {statistics.median(ratios):.1f}x")


if __name__ == "__main__":
    main()
