"""Prometheus metrics of one service process, rendered as text at ``/metrics``.

Request counts and latencies are recorded by ``MetricsMiddleware``; model, reload, cold-start and
prediction-log figures are read from their owners at scrape time, so there is one source for each.
With several uvicorn workers each process reports its own figures (scrape them per pod or process).
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from serving.model_store import ModelStore
from serving.prediction_log import PredictionLog

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ScoreCounts:
    """Rows scored and cold starts among them, per arm and by whether the score answered (or shadowed)."""

    def __init__(self) -> None:
        self.scored: dict[tuple[str, bool], int] = {}
        self.cold_starts: dict[tuple[str, bool], int] = {}

    def add(self, arm: str, served: bool, scored: int, cold_starts: int) -> None:
        key = (arm, served)
        self.scored[key] = self.scored.get(key, 0) + scored
        self.cold_starts[key] = self.cold_starts.get(key, 0) + cold_starts

    def served_share_of_cold_starts(self) -> float:
        scored = sum(count for (_, served), count in self.scored.items() if served)
        cold = sum(count for (_, served), count in self.cold_starts.items() if served)
        return cold / scored if scored else 0.0


def _per_arm(name: str, documentation: str, counts: dict[tuple[str, bool], int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=["arm", "served"])
    for (arm, served), count in sorted(counts.items()):
        family.add_metric([arm, str(served).lower()], count)
    return family


class ServiceCollector(Collector):
    def __init__(self, store: ModelStore, prediction_log: PredictionLog, counts: ScoreCounts):
        self.store = store
        self.prediction_log = prediction_log
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        snapshot = self.store.snapshot
        model = GaugeMetricFamily(
            "ecom_model_info", "The model version each arm serves (value 1)", labels=["version", "arm"]
        )
        for arm in (snapshot.champion, snapshot.challenger) if snapshot else ():
            if arm is not None:
                model.add_metric([arm.version, arm.role], 1)
        yield model
        yield GaugeMetricFamily(
            "ecom_ready", "1 when a model and its features serve", self.store.not_ready_reason is None
        )
        if snapshot is not None and snapshot.features is not None:
            yield GaugeMetricFamily(
                "ecom_features_customers", "Customers in the online index", len(snapshot.features)
            )
        reloads = CounterMetricFamily(
            "ecom_model_reloads", "Model or features reloads by outcome", labels=["outcome"]
        )
        reloads.add_metric(["loaded"], self.store.reloads)
        reloads.add_metric(["refused"], self.store.refusals)
        yield reloads
        yield _per_arm("ecom_scores", "Rows scored, by arm and whether answered", self.counts.scored)
        yield _per_arm("ecom_cold_starts", "Rows scored on the no-activity vector", self.counts.cold_starts)
        yield GaugeMetricFamily(
            "ecom_cold_start_share",
            "Share of answered rows that were cold starts",
            self.counts.served_share_of_cold_starts(),
        )
        written = CounterMetricFamily(
            "ecom_prediction_log_rows", "Prediction log rows by outcome", labels=["outcome"]
        )
        written.add_metric(["written"], self.prediction_log.written)
        written.add_metric(["lost"], self.prediction_log.lost)
        yield written
        yield CounterMetricFamily(
            "ecom_prediction_log_flushes", "Delta appends of the prediction log", self.prediction_log.flushes
        )
        yield GaugeMetricFamily(
            "ecom_prediction_log_pending", "Rows queued for the next flush", self.prediction_log.pending
        )


class ServiceMetrics:
    def __init__(self, store: ModelStore, prediction_log: PredictionLog):
        self.registry = CollectorRegistry()
        self.counts = ScoreCounts()
        self.requests = Counter(
            "ecom_http_requests",
            "HTTP requests by route and status",
            ["path", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ecom_http_request_duration_seconds",
            "Time to the response start, by route",
            ["path"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(ServiceCollector(store, prediction_log, self.counts))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts and times every HTTP request; unknown paths share one label so probes cannot grow the series."""

    def __init__(self, app, metrics: ServiceMetrics, paths: frozenset[str]):
        self.app = app
        self.metrics = metrics
        self.paths = paths

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        path = scope["path"] if scope["path"] in self.paths else "other"

        async def send_and_time(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                self.metrics.latency.labels(path).observe(time.perf_counter() - started)
            await send(message)

        try:
            await self.app(scope, receive, send_and_time)
        finally:
            self.metrics.requests.labels(path, str(status)).inc()
