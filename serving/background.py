"""Background work (model reloads, prediction-log flushes) runs at a lower CPU priority than requests.

A reload scores every indexed customer, about half a second of CPU per model; in a thread at the same
priority it takes a core's share from the request thread while it runs, and every answer in that time
is slower. At a lower priority it runs on what requests leave idle and takes a little longer. Linux
sets a priority per thread; elsewhere the thread keeps the process's.
"""

from __future__ import annotations

import os
import sys
import threading

BACKGROUND_NICENESS = 10  # a share of about a tenth of a core against a busy request thread


def lower_thread_priority() -> None:
    """Lower the calling thread's CPU priority (Linux only: elsewhere it would apply to the process)."""
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICENESS)
