"""A soak of the scoring service: a steady request rate for a long time, with a model reload every
minute; reports failed requests, p99 and the server's memory per minute (goals: 0 failed, flat lines).

    .venv/bin/python bench/soak.py [--minutes 30] [--rate 200] [--customers 100000]

The load is open-loop: each of ``--connections`` keep-alive connections sends on a fixed schedule and
a request's latency counts from when it was due, so a stall shows as latency rather than as fewer
requests. A mix of single (by id, unknown ids, explicit features) and batch requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.transforms.features import FEATURE_NAMES
from ecom_assets_tests.serving_support import (
    metric_value,
    production_model_lake,
    service_process,
    wait_until,
)

CONTENT_LENGTH = re.compile(rb"content-length: *(\d+)", re.IGNORECASE)


@dataclass
class Window:
    latencies: list[float] = field(default_factory=list)
    failed: int = 0


def post(path: str, body: object) -> bytes:
    payload = json.dumps(body).encode()
    head = f"POST {path} HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
    return f"{head}Content-Length: {len(payload)}\r\n\r\n".encode() + payload


def request_mix(customers: int) -> list[bytes]:
    rng = random.Random(0)
    ids = [f"c00-{rng.randrange(customers):05d}" for _ in range(200)]
    return (
        [post("/score", {"customer_id": customer}) for customer in ids] * 4
        + [post("/score", {"customer_id": f"unknown-{number}"}) for number in range(100)]
        + [post("/score", {"features": dict.fromkeys(FEATURE_NAMES, 1.0)})] * 100
        + [post("/score/batch", {"customer_ids": ids})] * 10
    )


async def connection(port: int, requests: list[bytes], interval: float, until: float, windows: list) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    due = time.perf_counter() + random.random() * interval
    while due < until:
        await asyncio.sleep(max(due - time.perf_counter(), 0))
        window = windows[-1]
        try:
            writer.write(random.choice(requests))
            head = await reader.readuntil(b"\r\n\r\n")
            length = CONTENT_LENGTH.search(head)
            await reader.readexactly(int(length.group(1)) if length else 0)
            window.failed += head[9:12] != b"200"
        except (ConnectionError, asyncio.IncompleteReadError):
            window.failed += 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        window.latencies.append(time.perf_counter() - due)
        due += interval
    writer.close()


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    resident = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(resident.group(1)) / 1024 if resident else float("nan")


async def soak(url: str, pid: int, args: argparse.Namespace) -> list[tuple]:
    port = int(url.rsplit(":", 1)[1])
    windows = [Window()]
    until = time.perf_counter() + args.minutes * 60
    interval = args.connections / args.rate
    requests = request_mix(args.customers)
    load = asyncio.gather(
        *(connection(port, requests, interval, until, windows) for _ in range(args.connections))
    )
    rows = []
    print(
        f"{'minute':>6}{'requests':>10}{'failed':>8}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}"
        f"{'RSS MB':>8}{'reloads':>8}"
    )
    for minute in range(1, args.minutes + 1):
        await asyncio.sleep(max(until - args.minutes * 60 + minute * 60 - time.perf_counter(), 0))
        window = windows[-1]
        windows.append(Window())
        cuts = statistics.quantiles(window.latencies, n=100) if len(window.latencies) > 1 else [0.0] * 99
        reloads = await asyncio.to_thread(metric_value, url, 'ecom_model_reloads_total{outcome="loaded"}')
        row = (
            minute,
            len(window.latencies),
            window.failed,
            cuts[49] * 1e3,
            cuts[98] * 1e3,
            max(window.latencies, default=0) * 1e3,
            rss_mb(pid),
            reloads,
        )
        print(
            f"{row[0]:>6}{row[1]:>10}{row[2]:>8}{row[3]:>10.2f}{row[4]:>10.2f}{row[5]:>10.1f}"
            f"{row[6]:>8.0f}{row[7]:>8.0f}"
        )
        rows.append(row)
    await load
    return rows


def reload_every(lake, versions: list[str], seconds: float, stop: threading.Event) -> None:
    registry = ModelRegistry(lake)
    turn = 0
    while not stop.wait(seconds):
        turn += 1
        registry.promote(versions[turn % 2], reason="soak: a reload every interval")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=30)
    parser.add_argument("--rate", type=float, default=200, help="requests per second, all connections")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--reload-seconds", type=float, default=60)
    parser.add_argument("--challenger-mode", default="shadow", choices=["off", "shadow", "split"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        lake, versions = production_model_lake(Path(tmp), args.customers, models=3)
        # A third model as the challenger: each champion swap loads and scores a model no arm serves.
        ModelRegistry(lake).assign("challenger", versions.pop(), reason="soak")
        settings = {"reload_interval_seconds": "10", "serving_challenger_mode": args.challenger_mode}
        with service_process(lake, Path(tmp), **settings) as (url, process):
            wait_until(lambda: httpx.get(f"{url}/ready").status_code == 200, what="/ready", timeout=120)
            print(
                f"{args.rate:.0f} requests/s for {args.minutes} min; reload every {args.reload_seconds:.0f} s"
            )
            stop = threading.Event()
            reloader = threading.Thread(target=reload_every, args=(lake, versions, args.reload_seconds, stop))
            reloader.start()
            try:
                rows = asyncio.run(soak(url, process.pid, args))
            finally:
                stop.set()
                reloader.join()
    failed = sum(row[2] for row in rows)
    p99s = [row[4] for row in rows]
    print(
        f"\nfailed requests: {failed}; p99 per minute {min(p99s):.2f}–{max(p99s):.2f} ms; "
        f"RSS first minute {rows[0][6]:.0f} MB, last {rows[-1][6]:.0f} MB"
    )


if __name__ == "__main__":
    main()
