"""The HTTP endpoints (``shared/CONTRACT.md`` section 5).

Handlers are ``async`` on purpose: scoring is CPU-only and short, so it runs on the event loop without
a thread hop. Every failure a client can cause maps to 401, 413, 422 or 503, never to 500.
"""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST

from serving.errors import BAD_BODY, NOT_READY, UNAUTHORIZED, not_ready
from serving.model_store import ServedArm
from serving.prometheus import ServiceMetrics
from serving.schemas import (
    ArmInfo,
    BatchScoreRequest,
    Health,
    ModelInfo,
    Readiness,
    ScoreResponse,
)
from serving.score_route import ScoreEndpoint, document_score, score_route
from serving.service import NotReadyError, ScoringService

PROTECTED = frozenset(["/model", "/score", "/score/batch"])


def add_routes(app: FastAPI, service: ScoringService, metrics: ServiceMetrics, score: ScoreEndpoint) -> None:
    """Routes straight on the app: nested routers cost a little on every request."""
    store = service.store
    app.router.routes.append(score_route(score))

    @app.post(
        "/score/batch",
        tags=["scoring"],
        responses=NOT_READY | BAD_BODY | UNAUTHORIZED,
        response_model=list[ScoreResponse],
    )
    async def score_batch(request: BatchScoreRequest) -> Response:
        """Score up to 1,000 customers by id, in the order given."""
        try:
            scored = service.score_customers(request.customer_ids)
        except NotReadyError as error:
            raise not_ready(error) from None
        # One orjson call: validating 1,000 answers through the response model would cost several times more.
        return Response(orjson.dumps(scored), media_type="application/json")

    @app.get("/health", tags=["operations"])
    async def health() -> Health:
        """200 while the process lives."""
        return Health()

    @app.get("/ready", tags=["operations"], responses={503: {"model": Readiness}})
    async def ready(response: Response) -> Readiness:
        """200 once a champion model and its features are loaded; 503 with the reason until then."""
        reason = store.not_ready_reason
        snapshot = store.snapshot
        if reason is not None:
            response.status_code = 503
        return Readiness(
            ready=reason is None,
            reason=reason,
            model_version=snapshot.champion.version if snapshot else None,
            features_as_of=snapshot.features.as_of if snapshot and snapshot.features else None,
        )

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def prometheus_metrics() -> Response:
        """Prometheus text format: requests, latency, model version, reloads, cold-start share."""
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/model", tags=["scoring"], responses=NOT_READY | UNAUTHORIZED)
    async def model_info() -> ModelInfo:
        """The champion (version, training window, metrics, feature names) and the challenger, if any."""
        snapshot = store.snapshot
        if snapshot is None:
            raise not_ready(NotReadyError(store.not_ready_reason))
        features, challenger = snapshot.features, snapshot.challenger
        return ModelInfo(
            **_arm_info(snapshot.champion).model_dump(),
            features_as_of=features.as_of if features else None,
            customers_indexed=len(features) if features else 0,
            challenger=_arm_info(challenger) if challenger else None,
            challenger_mode=service.mode,
            challenger_share=service.share,
        )

    # Last: FastAPI builds (and keeps) the OpenAPI description on first use, from the routes so far.
    document_score(app)


def _arm_info(arm: ServedArm) -> ArmInfo:
    return ArmInfo.model_validate(arm.model.manifest.model_dump(include=set(ArmInfo.model_fields)))
