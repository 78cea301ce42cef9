"""Landing → Gold throughput on simulator data, against the floor of polars parsing the same files.

    .venv/bin/python bench/pipeline.py [--customers 10000] [--days 30] [--engine polars|spark] [--profile]

Prints events per second for Bronze → Silver → Gold (Dagster range runs on a temporary lake) and the
ratio of that time to ``polars.read_ndjson`` on the same landing files (a parse with no validation,
dedup, late-window, back-fill or Delta writes: the floor). ``--engine spark`` runs the same graph on the
Spark engine (``ECOM_ENGINE=spark``: a local Sail server unless ``ECOM_SPARK_REMOTE`` is set).
``--profile`` also prints where the pipeline's CPU time goes, stage by stage (measured with cProfile on
the process CPU clock, so other load on the machine does not inflate it; the profiler adds its own
overhead to Python-heavy stages). It parses in the run's own process (``ECOM_PARSE_WORKERS=1``), where
the profiler sees it; without ``--profile`` the parse runs in one worker process per core.
"""

import argparse
import cProfile
import datetime as dt
import gzip
import os
import pstats
import tempfile
import time
from pathlib import Path

import orjson

# Stage → the functions whose cumulative time it is (file suffix, function name); Dagster run overhead
# is the rest of the materialisation (run and event storage, planning, checks, metadata). Tables are
# written as streams, so the writer calls back into the stages that make the frames: Delta writes are
# the writer's own time (``~`` is the file of a built-in, here deltalake's Rust writer).
STAGES = {
    "reading landing files": [("transforms/bronze.py", "read_landing_file")],
    "parsing and validation": [("transforms/silver.py", "parse_bronze")],
    "dedup": [("transforms/silver.py", "deduplicate")],
    "back-fill": [("transforms/silver.py", "backfill_customers")],
    "Delta writes": [("~", "write_deltalake")],
    "Delta reads": [("polars/lazyframe/frame.py", "collect"), ("defs/resources.py", "load_input")],
}
OWN_TIME_FILES = ("~",)


def _matches(file: str, function: str, suffix: str, name: str) -> bool:
    if file in OWN_TIME_FILES:  # a built-in is named "<built-in method module.name>"
        return file == suffix and name in function
    return file.endswith(suffix) and function == name


def stage_seconds(profile: cProfile.Profile) -> dict[str, float]:
    # {(file, line, function): (calls, primitive calls, tottime, cumtime, callers)}; untyped in typeshed
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    return {
        stage: sum(
            timing[2] if file in OWN_TIME_FILES else timing[3]
            for (file, _, function), timing in stats.items()
            if any(_matches(file, function, suffix, name) for suffix, name in functions)
        )
        for stage, functions in STAGES.items()
    }


def print_breakdown(total: float, stages: dict[str, float]) -> None:
    rows = {**stages, "Dagster run overhead": total - sum(stages.values())}
    print("| stage | CPU seconds | share |\n|---|---:|---:|")
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
    parser.add_argument("--profile", action="store_true", help="print the CPU time of each stage")
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
    profile = cProfile.Profile(time.process_time) if args.profile else None
    began, began_cpu = time.perf_counter(), time.process_time()
    if profile:
        profile.runcall(materialize_range, start, end, selection=selection)
    else:
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
    if profile:
        print_breakdown(pipeline_cpu, stage_seconds(profile))
    print(f"ratio pipeline / floor: {pipeline / floor:.1f}x")


if __name__ == "__main__":
    main()
