"""Landing → Gold throughput on simulator data, against the floor of polars parsing the same files.

    .venv/bin/python bench/pipeline.py [--customers 10000] [--days 30] [--engine polars|spark] [--profile]

Prints events per second for Bronze → Silver → Gold (Dagster range runs on a temporary lake) and the
ratio of that time to ``polars.read_ndjson`` on the same landing files (a parse with no validation,
dedup, late-window, back-fill or Delta writes: the floor). ``--engine spark`` runs the same graph on the
Spark engine (``ECOM_ENGINE=spark``: a local Sail server unless ``ECOM_SPARK_REMOTE`` is set).
``--profile`` also prints where the wall time goes, stage by stage: the time inside each stage's
functions, whichever thread calls them (tables are written as streams, so the frames are made on
deltalake's writer thread; polars runs each call on its own threads, inside that time). It parses in the
run's own process (``ECOM_PARSE_WORKERS=1``) so that the parse is a stage of its own; without
``--profile`` the parse runs in one worker process per core. Run it on a quiet machine.
"""

import argparse
import datetime as dt
import functools
import gzip
import importlib
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson

# Stage → the functions whose time it is (module, attribute as the caller looks it up). The rest of the
# wall time is Delta writing (deltalake's Rust threads, while no frame is being made), run creation,
# planning, metadata and logging.
STAGES = {
    "reading landing files": [("ecom_assets.transforms.bronze", "read_landing_file")],
    "parsing and validation (with its Bronze day's read)": [
        ("ecom_assets.transforms.parallel_parse", "parse_bronze")
    ],
    "dedup": [("ecom_assets.transforms.silver", "deduplicate")],
    "back-fill": [("ecom_assets.transforms.silver", "backfill_customers")],
    "Dagster event storage": [("ecom_assets.instance.storage", "SqliteEventLogStorage.store_event")],
}


class StageClock:
    """Seconds spent in each stage's functions, on whichever thread calls them."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()

    def install(self) -> None:
        for stage, functions in STAGES.items():
            for module_name, attribute in functions:
                owner = importlib.import_module(module_name)
                *path, name = attribute.split(".")
                for part in path:
                    owner = getattr(owner, part)
                setattr(owner, name, self._timed(stage, getattr(owner, name)))

    def _timed(self, stage: str, function: Callable) -> Callable:
        @functools.wraps(function)
        def timed(*args, **kwargs):
            began = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[stage] += time.perf_counter() - began

        return timed


def print_breakdown(total: float, stages: dict[str, float]) -> None:
    rows = {
        **stages,
        "Delta writes, instance and run creation, planning, metadata": total - sum(stages.values()),
    }
    print("| stage | seconds | share |\n|---|---:|---:|")
    for stage, seconds in rows.items():
        print(f"| {stage} | {seconds:.1f} | {seconds / total:.0%} |")
    print(f"| landing → Gold | {total:.1f} | 100% |")


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--engine", choices=("polars", "spark"), default="polars")
    parser.add_argument("--profile", action="store_true", help="print the time of each stage")
    args = parser.parse_args()
    os.environ["ECOM_ENGINE"] = args.engine
    if args.profile:
        os.environ["ECOM_PARSE_WORKERS"] = "1"
    workdir = Path(tempfile.mkdtemp(prefix="ecom-bench-"))
    os.environ["ECOM_LAKE_URI"] = str(workdir / "lake")
    os.environ["DAGSTER_HOME"] = str(workdir / "dagster_home")
    (workdir / "dagster_home").mkdir()

    import polars as pl

    from ecom_assets.events.simulator import simulate
    from ecom_assets.operations.materialize import materialize_range
    from ecom_assets.storage.lake import Lake

    lake = Lake.from_settings()
    start = dt.date(2026, 9, 1)
    end = start + dt.timedelta(days=args.days - 1)
    summary = simulate(lake, start, days=args.days, customers=args.customers, seed=1, progress=False)
    size = f"{args.customers:,} customers × {args.days} days"
    print(f"landing: {summary.lines:,} lines in {summary.files} files ({size}), engine {args.engine}")

    selection = "group:bronze or group:silver or key:gold/fact_events"
    clock = StageClock()
    if args.profile:
        clock.install()
    began, began_cpu = time.perf_counter(), time.process_time()
    materialize_range(start, end, selection=selection)
    pipeline, pipeline_cpu = time.perf_counter() - began, time.process_time() - began_cpu
    gold_rows = lake.read_table("gold/fact_events").height

    # polars cannot read a file with a malformed line at all: the floor parses the well-formed lines.
    well_formed = [_json_lines(path) for path in sorted((workdir / "lake" / "landing").rglob("*.jsonl*"))]
    began, began_cpu = time.perf_counter(), time.process_time()
    floor_rows = sum(pl.read_ndjson(data, infer_schema_length=None).height for data in well_formed)
    floor, floor_cpu = time.perf_counter() - began, time.process_time() - began_cpu

    rate = summary.lines / pipeline
    print(f"landing → Gold: {pipeline:.1f} s, {rate:,.0f} events/s ({gold_rows:,} Gold rows)")
    print(f"floor (polars read_ndjson of the same files): {floor:.2f} s, {floor_rows:,} rows")
    print(f"CPU time: landing → Gold {pipeline_cpu:.1f} s, floor {floor_cpu:.2f} s ({os.cpu_count()} cores)")
    if args.profile:
        print_breakdown(pipeline, dict(clock.seconds))
    print(f"ratio pipeline / floor: {pipeline / floor:.1f}x")


if __name__ == "__main__":
    main()
