"""Bronze arrival days parsed in worker processes, a few days ahead of the one being written.

Decoding is a Python loop over lines (msgspec per line), so it scales with processes, not threads. Each
worker collects its day's lines itself (the day is a lazy slice of the Bronze table: a small plan to
send, no lines) and sends back the parse, which is a day of typed columns.
"""

import atexit
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing.util import Finalize

import polars as pl

from ecom_assets.transforms.silver import ParsedBronze, parse_bronze


def parse_day(lines: pl.LazyFrame, late_window_days: int) -> ParsedBronze:
    return parse_bronze(lines.collect(), late_window_days)


_pools: dict[int, ProcessPoolExecutor] = {}


OWNER_POLL_SECONDS = 0.5


def _running(pid: int) -> bool:
    """The process exists and has not ended (an ended one stays a zombie until its parent reaps it)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc here: the signal's answer stands
        return True


def _leave_with(owner: int) -> None:
    """In a worker: end it, and its fork server, as soon as the process that owns the pool is gone.

    An owner that ends without shutting the pool down (``os._exit``, as multiprocessing children and
    test-runner workers end, or a kill) would otherwise leave both waiting forever: each worker holds
    its own end of the task queue, so it never sees the owner go.
    """

    def watch() -> None:
        while _running(owner):
            time.sleep(OWNER_POLL_SECONDS)
        if os.getppid() != owner:  # the fork server, which only served the owner
            os.kill(os.getppid(), signal.SIGTERM)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="ecom-parse-owner-watch").start()


def _pool(workers: int) -> ProcessPoolExecutor:
    """One pool per process, started on first use and kept for the next run (start-up is ~1 s)."""
    if workers not in _pools:
        # Not forked from this process, whose polars and Dagster threads a fork would copy mid-flight: from
        # a fork server that has imported this module and nothing else (not ``__main__``, which a test
        # runner's worker cannot import again).
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        pool = _pools[workers] = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_leave_with, initargs=(os.getpid(),)
        )
        # atexit does not run in multiprocessing children (Dagster's step processes): Finalize does. Before
        # the task queue's own finalizer (priority 10), which stops its feeder thread: after it, the stop
        # signals would never reach the workers and the shutdown would wait for them for ever.
        Finalize(pool, pool.shutdown, kwargs={"cancel_futures": True}, exitpriority=20)
        atexit.register(pool.shutdown, cancel_futures=True)
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
