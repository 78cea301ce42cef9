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
    """How many rows were scored, and how many of them were cold starts (unknown customers)."""

    def __init__(self) -> None:
        self.scored = 0
        self.cold_starts = 0

    def add(self, scored: int, cold_starts: int) -> None:
        self.scored += scored
        self.cold_starts += cold_starts


class ServiceCollector(Collector):
    def __init__(self, store: ModelStore, prediction_log: PredictionLog, counts: ScoreCounts):
        self.store = store
        self.prediction_log = prediction_log
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        snapshot = self.store.snapshot
        model = GaugeMetricFamily(
            "ecom_model_info", "The model version being served (value 1)", labels=["version"]
        )
        if snapshot is not None:
            model.add_metric([snapshot.model.manifest.version], 1)
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
        yield CounterMetricFamily("ecom_scores", "Rows scored", self.counts.scored)
        yield CounterMetricFamily(
            "ecom_cold_starts", "Rows scored on the no-activity vector", self.counts.cold_starts
        )
        share = self.counts.cold_starts / self.counts.scored if self.counts.scored else 0.0
        yield GaugeMetricFamily("ecom_cold_start_share", "Share of scored rows that were cold starts", share)
        written = CounterMetricFamily(
            "ecom_prediction_log_rows", "Prediction log rows by outcome", labels=["outcome"]
        )
        written.add_metric(["written"], self.prediction_log.written)
        written.add_metric(["lost"], self.prediction_log.lost)
        yield written


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
