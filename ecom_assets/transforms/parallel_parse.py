"""Bronze arrival days parsed in worker processes, a few days ahead of the one being written.

Decoding is a Python loop over lines (msgspec per line), so it scales with processes, not threads. Each
worker collects its day's lines itself (the day is a lazy slice of the Bronze table: a small plan to
send, no lines) and sends back the parse, which is a day of typed columns.
"""

import atexit
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

import polars as pl

from ecom_assets.transforms.silver import ParsedBronze, parse_bronze


def parse_day(lines: pl.LazyFrame, late_window_days: int) -> ParsedBronze:
    return parse_bronze(lines.collect(), late_window_days)


_pools: dict[int, ProcessPoolExecutor] = {}


def _pool(workers: int) -> ProcessPoolExecutor:
    """One pool per process, started on first use and kept for the next run (start-up is ~1 s)."""
    if workers not in _pools:
        # Not forked from this process, whose polars and Dagster threads a fork would copy mid-flight: from
        # a fork server that has imported this module and nothing else (not ``__main__``, which a test
        # runner's worker cannot import again).
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        _pools[workers] = ProcessPoolExecutor(workers, mp_context=context)
        atexit.register(_pools[workers].shutdown, cancel_futures=True)
    return _pools[workers]


def warm_up(workers: int) -> None:
    """Start the workers now, without waiting: each imports polars and msgspec first (about a second),
    which can overlap whatever the caller does before its first parse."""
    if workers > 1:
        pool = _pool(workers)
        for _ in range(workers):
            pool.submit(os.getpid)


def worker_count(configured: int) -> int:
    return configured or os.cpu_count() or 1


def parse_days(days: Iterable[pl.LazyFrame], late_window_days: int, workers: int) -> Iterator[ParsedBronze]:
    """``parse_day`` of each day's lines in order, ``workers`` at a time (in this process if 1).

    At most ``workers + 1`` days are in flight, so memory holds a few days whatever the range.
    """
    if workers <= 1:
        yield from (parse_day(lines, late_window_days) for lines in days)
        return
    pool = _pool(workers)
    in_flight: deque[Future[ParsedBronze]] = deque()
    for lines in days:
        in_flight.append(pool.submit(parse_day, lines, late_window_days))
        if len(in_flight) > workers:
            yield in_flight.popleft().result()
    while in_flight:
        yield in_flight.popleft().result()
