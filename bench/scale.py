"""The cost curve: a month of simulator events at growing customer counts, the whole graph, layer by layer.

    .venv/bin/python bench/scale.py [--millions 1 3 10] [--days 42] [--keep]

For each size it simulates ``--days`` days (customers scaled to about 1M events per million asked;
42 days so that training has labelled as-of dates after the 27-day feature warm-up) into a
temporary lake, then materialises the graph one layer at a time, each layer as its own
``ecom materialize`` process, and prints per layer: wall seconds, peak RSS of that process and events
per second (landing events over the layer's seconds). CPU and peak RSS cover the layer's whole process
tree, sampled every 0.2 s. Each process pays Python and Dagster start-up
(printed once as ``start-up``, an ``ecom materialize`` that selects nothing to run) so layers of a
small run are dominated by it.
"""

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

CUSTOMER_DAYS_PER_MILLION = 570_000  # simulator traffic (replenishment buyers included): ~1M events
START = dt.date(2026, 9, 1)
ECOM = str(Path(sys.executable).with_name("ecom"))

# Each layer is one `ecom materialize --select`; features take every gold table built from facts.
LAYERS = (
    ("bronze", "key:bronze/events"),
    ("silver", "key:silver/events or key:silver/events_rejected"),
    ("gold", "key:gold/fact_events or key:gold/dim_customer"),
    (
        "features (every as-of date)",
        "group:gold and not key:gold/fact_events and not key:gold/dim_customer"
        " and not key:gold/label_purchase_next_7d",
    ),
    ("labels", "key:gold/label_purchase_next_7d"),
    ("training", "key:ml/propensity_model or key:ml/champion"),
    ("batch scores", "key:ml/batch_scores"),
    ("drift", "key:monitoring/drift_report"),
)


@dataclass(frozen=True)
class Measured:
    seconds: float
    cpu_seconds: float  # user + system of the process tree: what a shared, busy machine does not inflate
    peak_rss_mb: float  # of the whole tree at once


SAMPLE_SECONDS = 0.2


class TreeSampler:
    """CPU and resident memory of a process and all its descendants, sampled: the last CPU seen of each
    process (one that ends between samples loses at most a sample's worth) and the largest sum of RSS."""

    def __init__(self, root: psutil.Process):
        self._root = root
        self._cpu: dict[int, float] = {}
        self.peak_rss = 0

    def sample(self) -> None:
        try:
            processes = [self._root, *self._root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        rss = 0
        for process in processes:
            try:
                with process.oneshot():
                    times, memory = process.cpu_times(), process.memory_info()
            except psutil.NoSuchProcess:
                continue
            self._cpu[process.pid] = times.user + times.system
            rss += memory.rss
        self.peak_rss = max(self.peak_rss, rss)

    @property
    def cpu_seconds(self) -> float:
        return sum(self._cpu.values())


def run_measured(command: list[str], env: dict[str, str], log: Path) -> Measured:
    """Run one child; wall time, and CPU time and peak RSS of its process tree."""
    began = time.perf_counter()
    with log.open("ab") as out:
        child = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        tree = TreeSampler(psutil.Process(child.pid))
        while child.poll() is None:
            tree.sample()
            time.sleep(SAMPLE_SECONDS)
    seconds = time.perf_counter() - began
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: see {log}")
    return Measured(seconds, tree.cpu_seconds, tree.peak_rss / 2**20)


def run_size(millions: float, days: int, workdir: Path) -> list[tuple[str, Measured]]:
    env = {
        **os.environ,
        "ECOM_LAKE_URI": str(workdir / "lake"),
        "DAGSTER_HOME": str(workdir / "dagster_home"),
        # The simulated month is the reject-rate baseline; a check failing here would stop the layers.
        "ECOM_MAX_REJECT_RATE": os.environ.get("ECOM_MAX_REJECT_RATE", "0.05"),
    }
    (workdir / "dagster_home").mkdir(parents=True, exist_ok=True)
    log = workdir / "run.log"
    customers = round(millions * CUSTOMER_DAYS_PER_MILLION / days)
    end = START + dt.timedelta(days=days - 1)
    window = ["--start", START.isoformat(), "--end", end.isoformat()]
    simulate = [ECOM, "simulate", "--start", START.isoformat(), "--days", str(days)]
    measured = [
        ("simulate (not a layer)", run_measured([*simulate, "--customers", str(customers)], env, log))
    ]
    # A day before any landing day: the same process start and plan, nothing to read.
    empty = ["--start", "2026-01-01", "--end", "2026-01-01", "--select", "key:bronze/events"]
    measured.append(("start-up", run_measured([ECOM, "materialize", *empty], env, log)))
    for name, selection in LAYERS:
        measured.append((name, run_measured([ECOM, "materialize", *window, "--select", selection], env, log)))
    return measured


def landing_events(workdir: Path) -> int:
    import polars as pl

    bronze = pl.scan_delta(str(workdir / "lake" / "bronze" / "events"))
    return bronze.select(pl.len()).collect().item()


def print_table(millions: float, events: int, measured: list[tuple[str, Measured]]) -> None:
    print(f"\n{millions:g}M target: {events:,} landing lines")
    print("| layer | wall s | CPU s | peak RSS (MB) | events/s (wall) | CPU s per 1M events |")
    print("|---|---:|---:|---:|---:|---:|")
    millions_read = events / 1e6
    for name, result in measured:
        print(
            f"| {name} | {result.seconds:.1f} | {result.cpu_seconds:.1f} | {result.peak_rss_mb:,.0f} "
            f"| {events / result.seconds:,.0f} | {result.cpu_seconds / millions_read:.1f} |"
        )
    layers = [result for name, result in measured if name not in ("simulate (not a layer)", "start-up")]
    wall, cpu = sum(result.seconds for result in layers), sum(result.cpu_seconds for result in layers)
    peak = max(result.peak_rss_mb for result in layers)
    print(
        f"| whole graph | {wall:.1f} | {cpu:.1f} | {peak:,.0f} "
        f"| {events / wall:,.0f} | {cpu / millions_read:.1f} |"
    )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--millions", type=float, nargs="+", default=[1, 3, 10])
    parser.add_argument("--days", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep each temporary lake (path printed)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; {args.days} days per size; every layer its own process")
    for millions in args.millions:
        workdir = Path(tempfile.mkdtemp(prefix=f"ecom-scale-{millions:g}M-"))
        measured = run_size(millions, args.days, workdir)
        print_table(millions, landing_events(workdir), measured)
        if args.keep:
            print(f"lake kept at {workdir}")
        else:
            subprocess.run(["rm", "-rf", str(workdir)], check=True)


if __name__ == "__main__":
    main()
