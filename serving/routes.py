"""The HTTP endpoints (``shared/CONTRACT.md`` section 5).

Handlers are ``async`` on purpose: scoring is CPU-only and short, so it runs on the event loop without
a thread hop. Every failure a client can cause maps to 401, 413, 422 or 503, never to 500.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import TypeAdapter, ValidationError
from pydantic_core import to_json

from serving.metrics import ServiceMetrics
from serving.schemas import (
    BatchScoreRequest,
    Health,
    ModelInfo,
    Problem,
    Readiness,
    ScoreByCustomer,
    ScoreByFeatures,
    ScoreResponse,
)
from serving.scoring import FeatureNamesError, NotReadyError, ScoringService

RETRY_AFTER_SECONDS = "5"
NOT_READY = {
    503: {"model": Problem, "description": "No model (or no features) loaded yet; the reason says why"}
}
UNAUTHORIZED = {
    401: {"model": Problem, "description": "X-API-Key missing or unknown (when keys are configured)"}
}
TOO_LARGE = {413: {"description": "Body over ECOM_MAX_BODY_BYTES", "content": {"text/plain": {}}}}
BAD_BODY = {
    400: {"model": Problem, "description": "Body is not text FastAPI can decode (e.g. not UTF-8)"},
} | TOO_LARGE


# The component FastAPI defines for the 422 of every route with a declared body.
VALIDATION_ERROR = {"$ref": "#/components/schemas/HTTPValidationError"}
INVALID = {
    422: {"description": "Validation Error", "content": {"application/json": {"schema": VALIDATION_ERROR}}}
}
# /score validates its body in one pass (JSON and schema together in pydantic-core): FastAPI's body
# parameter would parse the JSON in Python first, which costs a fifth of a request.
SCORE_REQUEST = TypeAdapter(ScoreByCustomer | ScoreByFeatures)
SCORE_REQUEST_SCHEMA = SCORE_REQUEST.json_schema(ref_template="#/components/schemas/{model}")
SCORE_REQUEST_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"anyOf": SCORE_REQUEST_SCHEMA["anyOf"]}}},
    }
}


def parse_score_request(body: bytes) -> ScoreByCustomer | ScoreByFeatures:
    try:
        return SCORE_REQUEST.validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(
            [_in_body(problem) for problem in error.errors(include_url=False)]
        ) from None


def _in_body(problem: dict) -> dict:
    """A pydantic error as FastAPI reports body errors; a body that is not JSON is echoed as text."""
    given = problem.get("input")
    if isinstance(given, bytes):
        given = given.decode("utf-8", errors="replace")
    return {**problem, "loc": ("body", *problem["loc"]), "input": given}


def document_score_request(app: FastAPI) -> None:
    """Add the request models that only /score's hand-declared body refers to."""
    app.openapi()["components"]["schemas"].update(SCORE_REQUEST_SCHEMA["$defs"])


def not_ready(error: NotReadyError) -> HTTPException:
    return HTTPException(503, f"not ready: {error}", headers={"Retry-After": RETRY_AFTER_SECONDS})


def feature_errors(error: FeatureNamesError) -> RequestValidationError:
    return RequestValidationError(
        [
            {
                "type": "missing",
                "loc": ("body", "features", name),
                "msg": "Field required by the model",
                "input": None,
            }
            for name in error.missing
        ]
    )


async def validation_error(request: Request, error: RequestValidationError) -> Response:
    """FastAPI's 422 body, except that a NaN or infinity the client sent comes back as a string."""
    body = {"detail": jsonable_encoder(error.errors())}
    return Response(to_json(body, inf_nan_mode="strings"), status_code=422, media_type="application/json")


PROTECTED = frozenset(["/model", "/score", "/score/batch"])


def add_routes(app: FastAPI, service: ScoringService, metrics: ServiceMetrics) -> None:
    """Routes straight on the app: nested routers cost a little on every request."""
    store = service.store

    # Starlette tries routes in order: the scoring routes, the hot path, come first.
    @app.post(
        "/score",
        tags=["scoring"],
        response_model=ScoreResponse,
        responses=NOT_READY | TOO_LARGE | UNAUTHORIZED | INVALID,
        openapi_extra=SCORE_REQUEST_BODY,
    )
    async def score(http_request: Request) -> Response:
        """Score a customer by id (unknown ids: no-activity vector, cold_start true) or a feature vector."""
        request = parse_score_request(await http_request.body())
        try:
            if isinstance(request, ScoreByCustomer):
                scored = service.score_customer(request.customer_id)
            else:
                scored = service.score_features(request.features.model_dump())
            # Built by the service itself, so FastAPI's second validation of the answer would only cost time.
            return Response(scored.model_dump_json(), media_type="application/json")
        except NotReadyError as error:
            raise not_ready(error) from None
        except FeatureNamesError as error:
            raise feature_errors(error) from None

    @app.post("/score/batch", tags=["scoring"], responses=NOT_READY | BAD_BODY | UNAUTHORIZED)
    async def score_batch(request: BatchScoreRequest) -> list[ScoreResponse]:
        """Score up to 1,000 customers by id, in the order given."""
        try:
            return service.score_customers(request.customer_ids)
        except NotReadyError as error:
            raise not_ready(error) from None

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
            model_version=snapshot.model.manifest.version if snapshot else None,
            features_as_of=snapshot.features.as_of if snapshot and snapshot.features else None,
        )

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def prometheus_metrics() -> Response:
        """Prometheus text format: requests, latency, model version, reloads, cold-start share."""
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/model", tags=["scoring"], responses=NOT_READY | UNAUTHORIZED)
    async def model_info() -> ModelInfo:
        """The model being served: version, training window, metrics and feature names."""
        snapshot = store.snapshot
        if snapshot is None:
            raise not_ready(NotReadyError(store.not_ready_reason))
        manifest, features = snapshot.model.manifest, snapshot.features
        return ModelInfo(
            **manifest.model_dump(include=set(ModelInfo.model_fields)),
            features_as_of=features.as_of if features else None,
            customers_indexed=len(features) if features else 0,
        )
