"""Simulator speed: a month of events for 10k customers written to a temporary landing zone.

    .venv/bin/python bench/simulate.py [--customers 10000] [--days 30] [--seed 7]

Prints events and lines per second and the wall time, and its share of the one-minute budget.
"""

import argparse
import datetime as dt
import tempfile
import time

from ecom_assets.events.simulator import simulate
from ecom_assets.storage.lake import Lake

BUDGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-simulate-") as root:
        started = time.perf_counter()
        summary = simulate(
            Lake(root), dt.date(2026, 11, 1), args.days, args.customers, args.seed, progress=False
        )
        seconds = time.perf_counter() - started
    print(summary)
    print(f"{args.days} days x {args.customers:,} customers: {seconds:.1f} s")
    print(f"{summary.events / seconds:,.0f} events/s, {summary.lines / seconds:,.0f} lines/s")
    print(f"{seconds / BUDGET_SECONDS:.2f} of the {BUDGET_SECONDS:.0f} s budget")


if __name__ == "__main__":
    main()
