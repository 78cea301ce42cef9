"""The answers a client's mistake or an unready service gets: 401, 413, 422 and 503, never 500."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import HTTPException, RequestValidationError
from pydantic_core import to_json

from serving.schemas import Problem
from serving.service import FeatureNamesError, NotReadyError

RETRY_AFTER_SECONDS = "5"
# OpenAPI response entries by status code, in the shape FastAPI's `responses=` takes.
Responses = dict[int | str, dict[str, Any]]
NOT_READY: Responses = {
    503: {"model": Problem, "description": "No model (or no features) loaded yet; the reason says why"}
}
UNAUTHORIZED: Responses = {
    401: {"model": Problem, "description": "X-API-Key missing or unknown (when keys are configured)"}
}
TOO_LARGE: Responses = {413: {"description": "Body over ECOM_MAX_BODY_BYTES", "content": {"text/plain": {}}}}
BAD_BODY: Responses = {
    400: {"model": Problem, "description": "Body is not text FastAPI can decode (e.g. not UTF-8)"},
    **TOO_LARGE,
}


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


async def validation_error(request: Request, error: Exception) -> Response:
    """FastAPI's 422 body, except that a NaN or infinity the client sent comes back as a string."""
    assert isinstance(error, RequestValidationError)  # registered for RequestValidationError only
    body = {"detail": jsonable_encoder(error.errors())}
    return Response(to_json(body, inf_nan_mode="strings"), status_code=422, media_type="application/json")
