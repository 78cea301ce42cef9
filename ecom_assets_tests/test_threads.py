"""map_ahead: results in order, a bounded number of items at work, errors where their item comes."""

import threading
import time

import pytest

from ecom_assets.transforms.threads import THREADS, map_ahead


def test_results_come_in_item_order_though_earlier_items_take_longer():
    def slow_first(n: int) -> int:
        time.sleep(0.05 if n == 0 else 0)
        return n * n

    assert list(map_ahead(slow_first, range(20))) == [n * n for n in range(20)]


def test_only_a_few_items_are_started_ahead_of_the_one_taken():
    started = []
    lock = threading.Lock()

    def record(n: int) -> int:
        with lock:
            started.append(n)
        return n

    results = map_ahead(record, iter(range(1000)))
    assert next(results) == 0
    time.sleep(0.05)
    assert len(started) <= THREADS + 1
    results.close()


def test_an_error_is_raised_where_its_item_comes():
    def fail_on_three(n: int) -> int:
        if n == 3:
            raise ValueError("three")
        return n

    results = map_ahead(fail_on_three, range(10))
    assert [next(results) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match="three"):
        next(results)
