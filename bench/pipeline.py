"""Landing → Gold throughput on simulator data, against the floor of polars parsing the same files.

    .venv/bin/python bench/pipeline.py [--customers 10000] [--days 30] [--engine polars|spark]

Prints events per second for Bronze → Silver → Gold (Dagster range runs on a temporary lake) and the
ratio of that time to ``polars.read_ndjson`` on the same landing files (a parse with no validation,
dedup, late-window, back-fill or Delta writes: the floor). ``--engine spark`` runs the same graph on the
Spark engine (``ECOM_ENGINE=spark``: a local Sail server unless ``ECOM_SPARK_REMOTE`` is set).
"""

import argparse
import datetime as dt
import gzip
import os
import tempfile
import time
from pathlib import Path

import orjson


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
    args = parser.parse_args()
    os.environ["ECOM_ENGINE"] = args.engine
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

    began = time.perf_counter()
    materialize_range(start, end, selection="group:bronze or group:silver or key:gold/fact_events")
    pipeline = time.perf_counter() - began
    gold_rows = lake.read_table("gold/fact_events").height

    # polars cannot read a file with a malformed line at all: the floor parses the well-formed lines.
    well_formed = [_json_lines(path) for path in sorted((workdir / "lake" / "landing").rglob("*.jsonl*"))]
    began = time.perf_counter()
    floor_rows = sum(pl.read_ndjson(data, infer_schema_length=None).height for data in well_formed)
    floor = time.perf_counter() - began

    rate = summary.lines / pipeline
    print(f"landing → Gold: {pipeline:.1f} s, {rate:,.0f} events/s ({gold_rows:,} Gold rows)")
    print(f"floor (polars read_ndjson of the same files): {floor:.2f} s, {floor_rows:,} rows")
    print(f"ratio pipeline / floor: {pipeline / floor:.1f}x")


if __name__ == "__main__":
    main()
