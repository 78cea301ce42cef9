"""A function over items in order, a few items at once on threads, for work that lets go of the GIL
(polars, deltalake reads, the compiled parse)."""

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

THREADS = os.cpu_count() or 1


def map_ahead(function: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
    """``function`` of each item, in order, on ``THREADS`` threads: at most ``THREADS + 1`` results are
    made or waiting at once, so memory holds a few items' work whatever the number of items."""
    with ThreadPoolExecutor(THREADS, thread_name_prefix="ecom-ahead") as threads:
        in_flight: deque[Future[Result]] = deque()
        for item in items:
            in_flight.append(threads.submit(function, item))
            if len(in_flight) > THREADS:
                yield in_flight.popleft().result()
        while in_flight:
            yield in_flight.popleft().result()
