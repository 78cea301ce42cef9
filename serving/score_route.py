"""``POST /score``, the hot path, as a plain ASGI endpoint.

FastAPI's per-request machinery (dependency solving, answer validation) cost a third of a ``/score``
request, and Starlette's request and response objects a little more; this endpoint reads the body,
validates JSON and schema in one pass, scores, and sends the answer. FastAPI cannot
describe such a route, so its OpenAPI operation is written here from the same models and responses as
the other routes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import msgspec
import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError
from starlette.requests import ClientDisconnect
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from serving.errors import NOT_READY, TOO_LARGE, UNAUTHORIZED, feature_errors, not_ready
from serving.schemas import FEATURES_BODY, ScoreByCustomer, ScoreByFeatures
from serving.service import FeatureNamesError, NotReadyError, ScoringService

SCORE_REQUEST = TypeAdapter(ScoreByCustomer | ScoreByFeatures)
_REQUEST_SCHEMA = SCORE_REQUEST.json_schema(ref_template="#/components/schemas/{model}")


def parse_score_request(body: bytes) -> ScoreByCustomer | dict[str, float]:
    """The customer asked for, or the feature values by name.

    A body fits at most one of the two shapes (each forbids the other's field), so it is first read as
    the shape it names: a valid body gets the union's answer at a fraction of the cost. Any other body goes
    through the union, which accepts it or reports every error exactly as before."""
    if b'"customer_id"' in body:
        try:
            return ScoreByCustomer.model_validate_json(body)
        except ValidationError:
            pass
    else:
        features = _finite_features(body)
        if features is not None:
            return features
    try:
        asked = SCORE_REQUEST.validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(
            [_in_body(problem) for problem in error.errors(include_url=False)]
        ) from None
    return asked if isinstance(asked, ScoreByCustomer) else vars(asked.features)


def _finite_features(body: bytes) -> dict[str, float] | None:
    """The features of a body msgspec reads as the schema's and whose values are finite, else None."""
    try:
        features = msgspec.structs.asdict(FEATURES_BODY.decode(body).features)
    except msgspec.MsgspecError:
        return None
    return features if all(map(math.isfinite, features.values())) else None


def _in_body(problem: Mapping[str, Any]) -> dict:
    """A pydantic error as FastAPI reports body errors; a body that is not JSON is echoed as text."""
    given = problem.get("input")
    if isinstance(given, bytes):
        given = given.decode("utf-8", errors="replace")
    return {**problem, "loc": ("body", *problem["loc"]), "input": given}


JSON = (b"content-type", b"application/json")


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


class ScoreEndpoint:
    """Score a customer by id (unknown ids: no-activity vector, cold_start true) or a feature vector."""

    def __init__(self, service: ScoringService):
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # What this raises (422, 503) reaches the app's exception handlers, as from any route.
        asked = parse_score_request(await read_body(receive))
        try:
            if isinstance(asked, ScoreByCustomer):
                scored = self.service.score_customer(asked.customer_id)
            else:
                scored = self.service.score_features(asked)
        except NotReadyError as error:
            raise not_ready(error) from None
        except FeatureNamesError as error:
            raise feature_errors(error) from None
        answer = orjson.dumps(scored)
        headers = [JSON, (b"content-length", b"%d" % len(answer))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def score_route(service: ScoringService) -> Route:
    return Route("/score", ScoreEndpoint(service), methods=["POST"])


def _json(description: str, component: str) -> dict:
    schema = {"$ref": f"#/components/schemas/{component}"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def document_score(app: FastAPI) -> None:
    """The /score operation in the app's OpenAPI description (its models are components already)."""
    schema = app.openapi()
    schema["components"]["schemas"].update(_REQUEST_SCHEMA["$defs"])
    body = {"anyOf": _REQUEST_SCHEMA["anyOf"]}
    schema["paths"]["/score"] = {
        "post": {
            "tags": ["scoring"],
            "summary": "Score",
            "description": ScoreEndpoint.__doc__,
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
