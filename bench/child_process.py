"""One import measured in a fresh process, so that its peak memory is its own (shared by the import benches).

measure("orders", "orders.csv", "/tmp/lake")  # {"rows", "events", "seconds", "peak_mb"}
"""

import argparse
import importlib
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

IMPORTERS = {
    "rees46": ("ecom_assets.events.rees46", "import_rees46"),
    "orders": ("ecom_assets.events.orders", "import_orders"),
}


def row_counts(doc: str) -> list[int]:
    """The ``--rows`` of an import bench's command line: the file sizes to measure."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[200_000, 1_000_000])
    return parser.parse_args().rows


def measure(importer: str, source: str, lake_path: str) -> dict:
    child = [sys.executable, __file__, importer, source, lake_path]
    return json.loads(subprocess.run(child, check=True, capture_output=True, text=True).stdout)


def _import_once(importer: str, source: str, lake_path: str) -> None:
    from ecom_assets.storage.lake import Lake

    module, function = IMPORTERS[importer]
    run = getattr(importlib.import_module(module), function)
    started = time.perf_counter()
    summary = run(Lake(lake_path), [Path(source)], progress=False)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps({"rows": summary.rows, "events": summary.events, "seconds": seconds, "peak_mb": peak_mb})
    )


if __name__ == "__main__":
    _import_once(*sys.argv[1:4])
