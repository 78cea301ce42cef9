"""The scoring service: ``create_app()`` for uvicorn's factory mode, ``run()`` behind ``ecom serve``."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from threadpoolctl import threadpool_limits

from ecom_assets.storage.lake import Lake
from serving.api_keys import ApiKeyMiddleware, document_api_key
from serving.background import lower_thread_priority
from serving.errors import validation_error
from serving.model_store import ModelStore
from serving.overload import AdmissionMiddleware
from serving.prediction_log import PredictionLog
from serving.prometheus import MetricsMiddleware, ServiceMetrics
from serving.routes import PROTECTED, add_routes
from serving.score_route import ScoreEndpoint, ScoreShortcut
from serving.service import ScoringService
from serving.settings import ServingSettings

log = logging.getLogger(__name__)


def refresh_in_background(store: ModelStore) -> None:
    lower_thread_priority()
    store.refresh()


async def keep_fresh(store: ModelStore, interval_seconds: float) -> None:
    """Load at once, then poll the registry; loading runs in a thread so requests keep being served."""
    while True:
        try:
            await asyncio.to_thread(refresh_in_background, store)
        except Exception:  # the poller must outlive any one bad reload
            log.exception("model reload failed; the current model keeps serving")
        await asyncio.sleep(interval_seconds)


def create_app(settings: ServingSettings | None = None, lake: Lake | None = None) -> FastAPI:
    settings = settings or ServingSettings()
    lake = lake or Lake.from_settings()
    store = ModelStore(lake, with_challenger=settings.challenger_mode != "off")
    prediction_log = PredictionLog(
        lake, settings.prediction_log_flush_seconds, settings.prediction_log_max_pending
    )
    metrics = ServiceMetrics(store, prediction_log)
    service = ScoringService(
        store, prediction_log, metrics.counts, settings.challenger_mode, settings.challenger_share
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        # One worker uses one core (scale out with --workers): no OpenMP pool on the scoring thread.
        threadpool_limits(1)
        prediction_log.start()
        poller = asyncio.create_task(keep_fresh(store, settings.reload_interval_seconds))
        try:
            yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            # uvicorn runs this after SIGTERM once requests in flight are answered: nothing queued is lost.
            await asyncio.to_thread(prediction_log.stop)

    app = FastAPI(
        title="ecom propensity scoring",
        summary="Purchase-propensity scores from the promoted champion model",
        version="1",
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,  # larger bodies get 413 before they are parsed
    )
    score = ScoreEndpoint(service)
    add_routes(app, service, metrics, score)
    document_api_key(app, PROTECTED)
    app.add_exception_handler(RequestValidationError, validation_error)
    paths = frozenset([*app.openapi()["paths"], app.openapi_url, app.docs_url, app.redoc_url])
    # Added first, so innermost: API keys, admission and metrics apply to /score as to every path.
    app.add_middleware(ScoreShortcut, endpoint=score)
    app.add_middleware(ApiKeyMiddleware, api_keys=settings.api_keys, protected=PROTECTED)
    app.add_middleware(
        AdmissionMiddleware, max_in_flight=settings.max_requests_in_flight, exempt=frozenset(["/health"])
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics, paths=paths)
    return app


def run(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Serve with uvicorn; every worker process loads its own copy of the model and features."""
    settings = ServingSettings()
    log_config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    log_config["loggers"]["serving"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    uvicorn.run(
        "serving.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # /metrics counts requests; a log line per request would cost more than scoring
        log_config=log_config,
        limit_concurrency=settings.max_connections,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
