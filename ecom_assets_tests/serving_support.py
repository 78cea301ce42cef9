"""A small lake for the scoring service (features + registered models) and a real uvicorn process."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import numpy as np
import polars as pl
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from ecom_assets.keys import CUSTOMER_DAILY_FEATURES
from ecom_assets.ml.dataset import feature_matrix
from ecom_assets.ml.registry import CHAMPION_ROLE, ModelManifest, ModelRegistry
from ecom_assets.ml.train import build_pipeline
from ecom_assets.storage.lake import Lake
from ecom_assets.transforms.features import FEATURE_NAMES, FEATURES_SCHEMA
from ecom_assets_tests.processes import background_process

AS_OF = dt.date(2026, 11, 1)
API_KEY = "test-key"


def features_frame(as_of: dt.date, customers: int, seed: int) -> pl.DataFrame:
    """Skewed non-negative values, a few of them missing, like the real table."""
    rng = np.random.default_rng(seed)
    values = rng.poisson(2.0, size=(customers, len(FEATURE_NAMES))).astype(np.float64)
    values[rng.random(values.shape) < 0.02] = np.nan
    frame = pl.DataFrame(values, schema=FEATURE_NAMES, orient="row").fill_nan(None)
    ids = pl.Series("customer_id", [f"c{seed:02d}-{number:05d}" for number in range(customers)])
    return frame.with_columns(ids, as_of_date=pl.lit(as_of)).select(list(FEATURES_SCHEMA))


def write_features(lake: Lake, as_of: dt.date = AS_OF, customers: int = 300, seed: int = 0) -> pl.DataFrame:
    frame = features_frame(as_of, customers, seed)
    lake.write_table(CUSTOMER_DAILY_FEATURES, frame, "as_of_date", [as_of])
    return frame


def register_model(lake: Lake, seed: int, promote: bool = True, role: str = CHAMPION_ROLE) -> ModelManifest:
    """Fit a small HistGradientBoosting Pipeline on synthetic labels and register it (and point ``role``
    at it when ``promote``)."""
    training = features_frame(AS_OF - dt.timedelta(days=30), 2000, seed=100 + seed)
    matrix = feature_matrix(training)
    rng = np.random.default_rng(seed)
    labels = (np.nan_to_num(matrix[:, seed % 5]) + rng.normal(0, 1.5, len(matrix)) > 2.5).astype(int)
    model = Pipeline([("model", HistGradientBoostingClassifier(max_iter=60, random_state=seed))])
    with threadpool_limits(1):  # OpenMP threads on a busy 2-core machine make the fit ten times slower
        model.fit(matrix, labels)
    window = (AS_OF - dt.timedelta(days=60), AS_OF - dt.timedelta(days=30))
    registry = ModelRegistry(lake)
    manifest = registry.register(
        model,
        training_window=window,
        validation_window=(window[1], AS_OF),
        feature_names=FEATURE_NAMES,
        metrics={"roc_auc": 0.7 + seed / 100},
        split="time",
        data_fingerprint=f"synthetic-{seed}",
        reference_features=training.select(FEATURE_NAMES),
        validation_scores=model.predict_proba(matrix)[:, 1],
        # Distinct timestamps keep version ids ordered even when two models are fitted within a second.
        trained_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=seed),
    )
    if promote:
        registry.assign(role, manifest.version, reason="test")
    return manifest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_service(lake: Lake, log_dir: Path, api_keys: str = "", **settings: str) -> Iterator[str]:
    """``ecom serve`` on a free loopback port; yields its base URL once /health answers, always stops it."""
    with service_process(lake, log_dir, api_keys, **settings) as (base_url, _):
        yield base_url


@contextmanager
def service_process(
    lake: Lake, log_dir: Path, api_keys: str = "", **settings: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``running_service`` that also yields the process, for tests that signal it."""
    port = free_port()
    env = {
        **os.environ,
        "ECOM_LAKE_URI": lake.uri,
        "ECOM_API_KEYS": api_keys,
        "ECOM_RELOAD_INTERVAL_SECONDS": "0.2",
        "ECOM_PREDICTION_LOG_FLUSH_SECONDS": "0.2",
        **{f"ECOM_{name.upper()}": value for name, value in settings.items()},
    }
    log_path = log_dir / f"serve-{port}.log"
    command = [sys.executable, "-m", "ecom_assets.cli", "serve", "--port", str(port)]
    base_url = f"http://127.0.0.1:{port}"
    with background_process(command, log_path, env) as process:
        wait_until(lambda: _answers(base_url, process, log_path), what=f"{base_url}/health")
        yield base_url, process


def _answers(base_url: str, process: subprocess.Popen, log_path: Path) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"ecom serve exited with {process.returncode}:\n{log_path.read_text()}")
    try:
        return httpx.get(f"{base_url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def wait_until(condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")
        time.sleep(0.05)


def production_model_lake(root: Path, customers: int, models: int = 2) -> tuple[Lake, list[str]]:
    """A lake for the benches: ``customers`` indexed and ``models`` versions fitted with the production
    pipeline settings (as many and as deep trees as the real ones); the first one is the champion."""
    lake = Lake(str(root / "lake"))
    write_features(lake, customers=customers)
    registry = ModelRegistry(lake)
    versions = []
    for seed in range(models):
        training = features_frame(AS_OF - dt.timedelta(days=30), 20_000, seed=7 + seed)
        matrix = feature_matrix(training)
        noise = np.random.default_rng(seed).normal(0, 1.5, len(matrix))
        labels = (np.nan_to_num(matrix[:, 3]) + noise > 2.5).astype(int)
        with threadpool_limits(1):
            model = build_pipeline("hist_gradient_boosting").fit(matrix, labels)
        manifest = registry.register(
            model,
            training_window=(AS_OF - dt.timedelta(days=60), AS_OF - dt.timedelta(days=30)),
            validation_window=(AS_OF - dt.timedelta(days=30), AS_OF),
            feature_names=FEATURE_NAMES,
            metrics={},
            split="time",
            data_fingerprint=f"bench-{seed}",
            reference_features=training.select(FEATURE_NAMES),
            validation_scores=model.predict_proba(matrix[:1000])[:, 1],
            trained_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=seed),
        )
        versions.append(manifest.version)
    registry.promote(versions[0])
    return lake, versions


def metric_value(url: str, line_start: str) -> float:
    """One figure of /metrics: the first line that starts with ``line_start`` (0 when absent)."""
    text = httpx.get(f"{url}/metrics").text
    return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(line_start)), 0.0)
