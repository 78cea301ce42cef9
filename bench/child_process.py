"""Measure one run in a fresh process, so that its peak memory is its own (shared by the import benches)."""

import json
import resource
import subprocess
import sys


def report(rows: int, events: int, seconds: float) -> None:
    """Called in the child: print the figures for the parent."""
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": rows, "events": events, "seconds": seconds, "peak_mb": peak_mb}))


def measure(script: str, *arguments: str) -> dict:
    """Run ``script --child arguments...`` and return what its ``report`` printed."""
    child = [sys.executable, script, "--child", *arguments]
    return json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)
