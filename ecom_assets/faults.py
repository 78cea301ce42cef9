"""Deterministic crash points for the reliability tests: ``ECOM_FAULT_POINT`` names one, and the process
SIGKILLs itself there, at the ``ECOM_FAULT_AFTER``-th time it passes (default the first).

The lake, the registry, the range runs and the service's prediction log pass named points at the moments
where a crash would hurt most (data files written but not committed, a version half-registered, a pointer
staged but not renamed). Unarmed, a point costs one dictionary lookup. SIGKILL rather than an exception:
no ``finally`` block, ``atexit`` hook or Dagster failure handler gets to tidy up, as in a real crash.
"""

import os
import signal
from collections import Counter

POINT_VARIABLE = "ECOM_FAULT_POINT"
AFTER_VARIABLE = "ECOM_FAULT_AFTER"

LAKE_BEFORE_COMMIT = "lake.before_commit"  # a Delta write has its data but not its commit
LAKE_FILE_STAGED = "lake.file_staged"  # a file is written under a temporary name, not yet renamed
REGISTRY_BEFORE_MANIFEST = "registry.before_manifest"  # a version's artifacts exist, its manifest not
RUN_BETWEEN_STEPS = "materialize.between_steps"  # one range run finished, the next not started
PREDICTION_LOG_FLUSH = "prediction_log.flush"  # queued predictions taken for a Delta append

_passes: Counter[str] = Counter()


def fault_point(name: str) -> None:
    """Kill this process here if ``ECOM_FAULT_POINT`` names this point and its turn has come."""
    if os.environ.get(POINT_VARIABLE) != name:
        return
    _passes[name] += 1
    if _passes[name] >= int(os.environ.get(AFTER_VARIABLE) or 1):
        os.kill(os.getpid(), signal.SIGKILL)
