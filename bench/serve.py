"""Latency and throughput of POST /score next to GET /health (the framework's floor), on one uvicorn worker.

    .venv/bin/python bench/serve.py [--lake PATH] [--concurrency 16] [--seconds 5]

Without --lake it builds a temporary lake: a features partition of synthetic customers and a model
with the production pipeline settings (``ecom_assets.ml.train.build_pipeline``), so the trees are as
many and as deep as the real ones. The load generator is a minimal keep-alive HTTP/1.1 client on
asyncio, so it costs the machine far less than the server it measures.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from threadpoolctl import threadpool_limits

from ecom_assets.ml.dataset import feature_matrix
from ecom_assets.ml.registry import ModelRegistry
from ecom_assets.ml.train import build_pipeline
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.features import FEATURE_NAMES
from ecom_assets_tests.serving_support import (
    AS_OF,
    features_frame,
    running_service,
    wait_until,
    write_features,
)

CONTENT_LENGTH = re.compile(rb"content-length: *(\d+)", re.IGNORECASE)


def build_lake(root: Path, customers: int) -> Lake:
    lake = Lake(str(root / "lake"))
    write_features(lake, customers=customers)
    training = features_frame(AS_OF - dt.timedelta(days=30), 20_000, seed=7)
    matrix = feature_matrix(training)
    labels = (
        np.nan_to_num(matrix[:, 3]) + np.random.default_rng(0).normal(0, 1.5, len(matrix)) > 2.5
    ).astype(int)
    with threadpool_limits(1):
        model = build_pipeline("hist_gradient_boosting").fit(matrix, labels)
    registry = ModelRegistry(lake)
    manifest = registry.register(
        model,
        training_window=(AS_OF - dt.timedelta(days=60), AS_OF - dt.timedelta(days=30)),
        validation_window=(AS_OF - dt.timedelta(days=30), AS_OF),
        feature_names=FEATURE_NAMES,
        metrics={},
        split="time",
        data_fingerprint="bench",
        reference_features=training.select(FEATURE_NAMES),
        validation_scores=model.predict_proba(matrix[:1000])[:, 1],
    )
    registry.promote(manifest.version)
    trees = model[-1].n_iter_
    print(f"model: HistGradientBoosting, {trees} trees; {customers} customers indexed")
    return lake


def http_request(method: str, path: str, body: object | None = None) -> bytes:
    payload = b"" if body is None else json.dumps(body).encode()
    head = f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(payload)}\r\n"
    if body is not None:
        head += "Content-Type: application/json\r\n"
    return head.encode() + b"\r\n" + payload


async def connection(port: int, requests: list[bytes], until: float, latencies: list[float]) -> int:
    """Send requests one after another on one kept-alive connection; returns how many were not 200."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    failures = 0
    while time.perf_counter() < until:
        started = time.perf_counter()
        writer.write(random.choice(requests))
        head = await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(int(CONTENT_LENGTH.search(head).group(1)))
        latencies.append(time.perf_counter() - started)
        failures += head[9:12] != b"200"
    writer.close()
    return failures


async def measure(port: int, requests: list[bytes], concurrency: int, seconds: float) -> dict[str, float]:
    warmup: list[float] = []
    await asyncio.gather(
        *(connection(port, requests, time.perf_counter() + 1, warmup) for _ in range(concurrency))
    )
    latencies: list[float] = []
    until = time.perf_counter() + seconds
    failures = await asyncio.gather(
        *(connection(port, requests, until, latencies) for _ in range(concurrency))
    )
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rps": len(latencies) / seconds,
        "p50_ms": cuts[49] * 1000,
        "p99_ms": cuts[98] * 1000,
        "failed": float(sum(failures)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lake", help="an existing lake with a champion and features (default: a temporary one)"
    )
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as root:
        lake = Lake(args.lake) if args.lake else build_lake(Path(root), args.customers)
        # The service's own defaults, not the tests' fast polling: a 0.2 s reload check and log flush
        # would compete with the requests being measured.
        production = {"reload_interval_seconds": "10", "prediction_log_flush_seconds": "5"}
        with running_service(lake, Path(root), **production) as url:
            wait_until(lambda: _ready(url), what="the service to be ready")
            port = int(url.rsplit(":", 1)[1])
            known = [f"c00-{number:05d}" for number in range(min(args.customers, 1000))]
            features = features_frame(AS_OF, 200, seed=3).drop_nulls()
            cases = {
                "GET /health": [http_request("GET", "/health")],
                "POST /score customer_id": [
                    http_request("POST", "/score", {"customer_id": cid}) for cid in known
                ],
                "POST /score features": [
                    http_request("POST", "/score", {"features": row})
                    for row in features.select(FEATURE_NAMES).to_dicts()
                ],
            }
            results = {
                name: asyncio.run(measure(port, requests, args.concurrency, args.seconds))
                for name, requests in cases.items()
            }
    report(results, args.concurrency)


def _ready(url: str) -> bool:
    return httpx.get(f"{url}/ready").status_code == 200


def report(results: dict[str, dict[str, float]], concurrency: int) -> None:
    floor = results["GET /health"]["rps"]
    print(f"\none uvicorn worker, {concurrency} keep-alive connections")
    print(f"{'endpoint':<26}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}{'vs /health':>12}")
    for name, figures in results.items():
        print(
            f"{name:<26}{figures['rps']:>9.0f}{figures['p50_ms']:>9.2f}{figures['p99_ms']:>9.2f}"
            f"{figures['failed']:>8.0f}{figures['rps'] / floor:>11.0%}"
        )


if __name__ == "__main__":
    main()
