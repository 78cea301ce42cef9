"""``POST /score``, the hot path, as a plain Starlette route.

FastAPI's per-request machinery (dependency solving, answer validation) cost a third of a ``/score``
request; this route reads the body, validates JSON and schema in one pass in pydantic-core, scores, and
answers. FastAPI cannot describe such a route, so its OpenAPI operation is written here from the same
models and responses as the other routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.routing import Route

from serving.errors import NOT_READY, TOO_LARGE, UNAUTHORIZED, feature_errors, not_ready
from serving.schemas import ScoreByCustomer, ScoreByFeatures
from serving.service import FeatureNamesError, NotReadyError, ScoringService

SCORE_REQUEST = TypeAdapter(ScoreByCustomer | ScoreByFeatures)
_REQUEST_SCHEMA = SCORE_REQUEST.json_schema(ref_template="#/components/schemas/{model}")


def parse_score_request(body: bytes) -> ScoreByCustomer | ScoreByFeatures:
    try:
        return SCORE_REQUEST.validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(
            [_in_body(problem) for problem in error.errors(include_url=False)]
        ) from None


def _in_body(problem: Mapping[str, Any]) -> dict:
    """A pydantic error as FastAPI reports body errors; a body that is not JSON is echoed as text."""
    given = problem.get("input")
    if isinstance(given, bytes):
        given = given.decode("utf-8", errors="replace")
    return {**problem, "loc": ("body", *problem["loc"]), "input": given}


def score_route(service: ScoringService) -> Route:
    async def score(request: Request) -> Response:
        """Score a customer by id (unknown ids: no-activity vector, cold_start true) or a feature vector."""
        asked = parse_score_request(await request.body())
        try:
            if isinstance(asked, ScoreByCustomer):
                scored = service.score_customer(asked.customer_id)
            else:
                scored = service.score_features(vars(asked.features))  # the validated fields, not a copy
        except NotReadyError as error:
            raise not_ready(error) from None
        except FeatureNamesError as error:
            raise feature_errors(error) from None
        return Response(orjson.dumps(scored), media_type="application/json")

    return Route("/score", score, methods=["POST"])


def _json(description: str, component: str) -> dict:
    schema = {"$ref": f"#/components/schemas/{component}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document_score(app: FastAPI, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
    """The /score operation in the app's OpenAPI description (its models are components already)."""
    schema = app.openapi()
    schema["components"]["schemas"].update(_REQUEST_SCHEMA["$defs"])
    body = {"anyOf": _REQUEST_SCHEMA["anyOf"]}
    schema["paths"]["/score"] = {
        "post": {
            "tags": ["scoring"],
            "summary": "Score",
            "description": endpoint.__doc__,
            "operationId": "score_score_post",
            "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
            "responses": {
                "200": _json("Successful Response", "ScoreResponse"),
                "401": _json(str(UNAUTHORIZED[401]["description"]), "Problem"),
                "413": TOO_LARGE[413],
                "422": _json("Validation Error", "HTTPValidationError"),
                "503": _json(str(NOT_READY[503]["description"]), "Problem"),
            },
        }
    }
