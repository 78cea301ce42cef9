"""Latency and throughput of the scoring service on one uvicorn worker, measured by ``wrk``, with the
prediction log flushing and the champion being swapped while it runs.

    .venv/bin/python bench/serve.py [--lake PATH] [--customers 100000] [--connections 16] [--seconds 20]

Without --lake it builds a temporary lake: ``--customers`` indexed and two models fitted with the
production pipeline settings. The service runs with its own defaults (log flush every 5 s, reload check
every 10 s) while a thread swaps the champion between the two models every ``--swap-seconds``, so each
endpoint's run includes several flushes and real reloads (the new model scores every indexed customer).
Prints the time from process start to ``/ready``, then per endpoint req/s, scores/s, p50/p99/max and
non-2xx answers, next to ``GET /health`` (the framework's floor). ``wrk`` is Debian's package.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.features import FEATURE_NAMES
from ecom_assets_tests.serving_support import (
    AS_OF,
    features_frame,
    metric_value,
    production_model_lake,
    service_process,
    wait_until,
)

BATCH = 1000
UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}
LATENCY = r"([\d.]+)(us|ms|s)\b"


def lua_script(path: str, bodies: list[dict]) -> str:
    """A wrk script that POSTs the bodies in turn."""
    literals = ",\n".join(f"[==[{json.dumps(body)}]==]" for body in bodies)
    return f"""
local bodies = {{
{literals}
}}
local n = 0
request = function()
  n = n % #bodies + 1
  return wrk.format("POST", "{path}", {{["Content-Type"] = "application/json"}}, bodies[n])
end
"""


def milliseconds(value: str, unit: str) -> float:
    return float(value) * UNITS[unit]


def _find(pattern: str, output: str) -> re.Match[str]:
    found = re.search(pattern, output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"wrk printed nothing like {pattern!r}:\n{output}")
    return found


def parse_wrk(output: str) -> dict[str, float]:
    latency = _find(rf"Latency\s+{LATENCY}\s+{LATENCY}\s+{LATENCY}", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "rps": float(_find(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": milliseconds(*_find(rf"^\s+50%\s+{LATENCY}", output).groups()),
        "p99_ms": milliseconds(*_find(rf"^\s+99%\s+{LATENCY}", output).groups()),
        "max_ms": milliseconds(*latency.groups()[4:6]),
        "failed": float(non_2xx.group(1) if non_2xx else 0)
        + (sum(int(count) for count in errors.groups()) if errors else 0),
    }


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far: what a request costs, whatever else runs."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_wrk(
    url: str, pid: int, path: str, bodies: list[dict] | None, args: argparse.Namespace, root: Path
) -> dict:
    command = ["wrk", "-t1", f"-c{args.connections}", f"-d{args.seconds}s", "--latency", "--timeout", "5s"]
    if bodies is not None:
        script = root / f"wrk{path.replace('/', '_')}.lua"
        script.write_text(lua_script(path, bodies))
        command += ["-s", str(script)]
    before = {name: metric_value(url, line) for name, line in COUNTED.items()}
    cpu_before = cpu_seconds(pid)
    output = subprocess.run([*command, f"{url}{path}"], capture_output=True, text=True, check=True).stdout
    figures = parse_wrk(output)
    figures["cpu_us"] = (cpu_seconds(pid) - cpu_before) / (figures["rps"] * args.seconds) * 1e6
    figures |= {name: metric_value(url, line) - before[name] for name, line in COUNTED.items()}
    return figures


COUNTED = {
    "flushes": "ecom_prediction_log_flushes_total ",
    "reloads": 'ecom_model_reloads_total{outcome="loaded"}',
}


def swap_champion(lake: Lake, versions: list[str], every: float, stop: threading.Event) -> None:
    registry = ModelRegistry(lake)
    turn = 0
    while not stop.wait(every):
        turn += 1
        registry.promote(versions[turn % len(versions)], reason="bench: a reload under load")


def cases(customers: int) -> dict[str, tuple[str, list[dict] | None, int]]:
    """name -> (path, bodies, scores per request)"""
    rng = random.Random(0)
    known = [f"c00-{rng.randrange(customers):05d}" for _ in range(BATCH)]
    rows = features_frame(AS_OF, 200, seed=3).drop_nulls().select(FEATURE_NAMES).to_dicts()
    return {
        "GET /health": ("/health", None, 0),
        "POST /score customer_id": ("/score", [{"customer_id": customer} for customer in known], 1),
        "POST /score features": ("/score", [{"features": row} for row in rows], 1),
        f"POST /score/batch {BATCH} ids": ("/score/batch", [{"customer_ids": known}], BATCH),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lake", help="an existing lake with a champion and features")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=20, help="per endpoint")
    parser.add_argument("--swap-seconds", type=float, default=10.0, help="champion swap interval (temp lake)")
    parser.add_argument("--challenger-mode", default="off", choices=["off", "shadow", "split"])
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/serve.py needs wrk: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        if args.lake:
            lake, versions = Lake(args.lake), list[str]()
        else:
            lake, versions = production_model_lake(root, args.customers, models=3)
            # A third model as the challenger: the champion's swaps load a model no arm serves yet.
            ModelRegistry(lake).assign("challenger", versions.pop(), reason="bench")
        print(f"{args.customers:,} customers indexed; challenger mode {args.challenger_mode}")
        # The service's own defaults, not the tests' fast polling.
        settings = {
            "reload_interval_seconds": "10",
            "prediction_log_flush_seconds": "5",
            "serving_challenger_mode": args.challenger_mode,
        }
        started = time.perf_counter()
        with service_process(lake, root, **settings) as (url, process):
            wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="/ready", timeout=120)
            print(f"process start to /ready: {time.perf_counter() - started:.1f} s")
            stop = threading.Event()
            swapper = threading.Thread(target=swap_champion, args=(lake, versions, args.swap_seconds, stop))
            if versions:
                swapper.start()
            try:
                results = {
                    name: run_wrk(url, process.pid, path, bodies, args, root) | {"per_request": per_request}
                    for name, (path, bodies, per_request) in cases(args.customers).items()
                }
            finally:
                stop.set()
                if versions:
                    swapper.join()
    report(results, args)


def report(results: dict[str, dict[str, float]], args: argparse.Namespace) -> None:
    floor = results["GET /health"]
    print(
        f"\nwrk: one thread, {args.connections} connections, {args.seconds} s per endpoint;"
        " one uvicorn worker"
    )
    print("cpu µs/req: the service process's CPU time per request (what one core can sustain is 1e6 / it)")
    header = (
        f"{'endpoint':<28}{'req/s':>8}{'scores/s':>10}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'failed':>7}"
    )
    print(header + f"{'flushes':>8}{'reloads':>8}{'vs /health':>11}{'cpu µs/req':>11}{'by cpu':>8}")
    for name, figures in results.items():
        scores = figures["rps"] * figures["per_request"]
        print(
            f"{name:<28}{figures['rps']:>8.0f}{scores:>10.0f}{figures['p50_ms']:>8.2f}{figures['p99_ms']:>8.2f}"
            f"{figures['max_ms']:>8.1f}{figures['failed']:>7.0f}{figures['flushes']:>8.0f}"
            f"{figures['reloads']:>8.0f}{figures['rps'] / floor['rps']:>10.0%}{figures['cpu_us']:>11.0f}"
            f"{floor['cpu_us'] / figures['cpu_us']:>7.0%}"
        )


if __name__ == "__main__":
    main()
