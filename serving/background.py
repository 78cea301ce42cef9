"""Background work (model reloads, prediction-log flushes) runs at a lower CPU priority than requests,
and hands the GIL back to the request thread sooner than Python's default.

A reload scores every indexed customer, about half a second of CPU per model; in a thread at the same
priority it takes a core's share from the request thread while it runs, and every answer in that time
is slower. At a lower priority it runs on what requests leave idle and takes a little longer. Linux
sets a priority per thread; elsewhere the thread keeps the process's.

The GIL is another matter: the event loop lets it go at every poll, a background thread running Python
takes it, and the loop waits for it up to the switch interval, 5 ms by default, each time. During a
reload that is several 5 ms stalls per request batch. At 0.5 ms the same reload kept a thread that
polled like the loop waiting 24 ms in all (52 ms at 5 ms) and a log flush of 32,000 rows at most
1.5 ms at once (6 ms at 5 ms); a thread alone never switches, so requests cost the same.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BACKGROUND_NICENESS = 10  # a share of about a tenth of a core against a busy request thread
SWITCH_INTERVAL_SECONDS = 0.0005


def lower_thread_priority() -> None:
    """Lower the calling thread's CPU priority (Linux only: elsewhere it would apply to the process)."""
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)


@contextmanager
def short_gil_switches() -> Iterator[None]:
    """Switch the GIL every ``SWITCH_INTERVAL_SECONDS`` while the service runs (it is per process)."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)
