"""The Bronze parse workers: the same parse as in the run's process, and no process left behind."""

import multiprocessing
import os
import subprocess
import sys
import time

import psutil

from ecom_assets.transforms.parallel_parse import parse_days
from ecom_assets.transforms.silver import parse_bronze
from ecom_assets_tests.factories import bronze, event, line

# The owner starts its workers, says who they are (workers and their fork server) and ends the way
# multiprocessing children end: without atexit, the pool never shut down.
OWNER = """
import os
from ecom_assets.transforms import parallel_parse
pool = parallel_parse._pool(2)
workers = {pool.submit(os.getpid).result() for _ in range(20)}
import psutil
server = {psutil.Process(pid).ppid() for pid in workers}
print(" ".join(str(pid) for pid in workers | server), flush=True)
os._exit(0)
"""


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_workers_parse_days_as_the_run_s_own_process_does():
    days = [
        bronze([line(event(n)) for n in range(day * 10, day * 10 + 10)] + ["not json"]) for day in range(3)
    ]
    in_workers = list(parse_days((day.lazy() for day in days), 3, workers=2))
    for day, parsed in zip(days, in_workers, strict=True):
        expected = parse_bronze(day, 3)
        assert parsed.events.equals(expected.events)
        assert parsed.rejected.equals(expected.rejected)


def test_workers_and_their_fork_server_end_when_their_owner_ends_without_shutting_them_down():
    owner = subprocess.run([sys.executable, "-c", OWNER], capture_output=True, text=True, timeout=120)
    assert owner.returncode == 0, owner.stderr
    pids = [int(pid) for pid in owner.stdout.split()]
    assert pids and os.getpid() not in pids
    deadline = time.monotonic() + 20
    while any(map(_running, pids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in pids if _running(pid)], "parse workers outlived their owner"


def _use_the_workers_and_return(found) -> None:
    """A multiprocessing child's whole life, as a Dagster step process lives it: parse, then return."""
    from ecom_assets.transforms import parallel_parse

    pool = parallel_parse._pool(2)
    found.put(sorted({pool.submit(os.getpid).result() for _ in range(20)}))


def test_a_multiprocessing_child_that_used_the_workers_ends_and_takes_them_with_it():
    context = multiprocessing.get_context("spawn")
    found = context.Queue()
    child = context.Process(target=_use_the_workers_and_return, args=(found,))
    child.start()
    workers = found.get(timeout=120)
    child.join(timeout=60)
    hung = child.is_alive()
    if hung:
        child.kill()
    assert not hung, "the child waited for ever for its parse workers to stop"
    assert child.exitcode == 0
    deadline = time.monotonic() + 20
    while any(map(_running, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in workers if _running(pid)], "parse workers outlived their owner"
